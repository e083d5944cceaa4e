"""One line from a bench/load.py JSON report (used by scripts/try_deploy.sh); exit 1 on a failed run."""

import json
import sys

report = json.load(open(sys.argv[1]))
print(
    f"  journeys={report['journeys']} requests={report['requests']} errors={report['errors']} "
    f"enrollments={report['enrollments']} p50={report['overall']['p50_ms']}ms p99={report['overall']['p99_ms']}ms"
)
failed = report["errors"] or report["enrollments"]["lost"] or report["enrollments"]["duplicated"]
sys.exit(1 if failed or not report["journeys"] else 0)
