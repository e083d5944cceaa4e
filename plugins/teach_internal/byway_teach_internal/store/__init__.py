"""All SQL of ``teach-internal``, by concept: rows in, plain dicts out (the shapes the schema serves).

* :mod:`.courses`: courses (create, change, delete, by id, of a teacher);
* :mod:`.outline`: modules and lessons, with dense positions kept by locking the parent row;
* :mod:`.catalog`: the published catalogue, filters and full-text search.
"""

from byway_teach_internal.store.catalog import CatalogQuery, catalog_count, catalog_page, category_counts
from byway_teach_internal.store.courses import (
    Record,
    course_record,
    courses_of_teacher,
    delete_course,
    get_course,
    get_courses,
    insert_course,
    update_course,
)
from byway_teach_internal.store.outline import (
    ModuleRow,
    delete_lesson,
    delete_module,
    get_lesson,
    get_module,
    insert_lesson,
    insert_module,
    lesson_counts,
    lesson_ids_of_courses,
    lesson_ids_of_module,
    lesson_record,
    lessons_by_ids,
    lessons_of_modules,
    lock_course,
    lock_module,
    module_ids_of_course,
    module_record,
    modules_of_courses,
    reorder_lessons,
    reorder_modules,
    update_lesson,
    update_module,
)

__all__ = [
    "CatalogQuery",
    "ModuleRow",
    "Record",
    "catalog_count",
    "catalog_page",
    "category_counts",
    "course_record",
    "courses_of_teacher",
    "delete_course",
    "delete_lesson",
    "delete_module",
    "get_course",
    "get_courses",
    "get_lesson",
    "get_module",
    "insert_course",
    "insert_lesson",
    "insert_module",
    "lesson_counts",
    "lesson_ids_of_courses",
    "lesson_ids_of_module",
    "lesson_record",
    "lessons_by_ids",
    "lessons_of_modules",
    "lock_course",
    "lock_module",
    "module_ids_of_course",
    "module_record",
    "modules_of_courses",
    "reorder_lessons",
    "reorder_modules",
    "update_course",
    "update_lesson",
    "update_module",
]
