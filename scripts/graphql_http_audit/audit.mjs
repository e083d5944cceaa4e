// The GraphQL-over-HTTP reference audit (graphql-http's serverAudits) against Byway endpoints.
// Usage: node audit.mjs URL [URL...]   (each URL is a plugin's /api/<plugin>/graphql)
// Prints one line per audit that is not "ok" and a summary per endpoint; exits 1 when any MUST
// audit fails (error) or any SHOULD audit warns. MAY audits ("notice") are reported, not failed.
import { serverAudits } from 'graphql-http';

const urls = process.argv.slice(2);
if (urls.length === 0) {
  console.error('usage: node audit.mjs URL [URL...]');
  process.exit(2);
}
let failed = false;
for (const url of urls) {
  const counts = { ok: 0, warn: 0, error: 0, notice: 0 };
  for (const audit of serverAudits({ url })) {
    const result = await audit.fn();
    counts[result.status] += 1;
    if (result.status !== 'ok') {
      console.log(`${url} ${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`);
    }
  }
  failed ||= counts.error > 0 || counts.warn > 0;
  console.log(
    `${url}: ${counts.ok} ok, ${counts.error} MUST failures, ${counts.warn} SHOULD warnings, ${counts.notice} MAY notices`,
  );
}
process.exit(failed ? 1 : 0);
