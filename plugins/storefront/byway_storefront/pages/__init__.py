"""The storefront's pages: every path a person visits, and the assets they load."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from byway import PluginRuntime
from byway_storefront.pages import account, learning, mine, outline, purchase, teach
from byway_storefront.render import ASSETS_PATH, STATIC_DIR
from byway_storefront.site import Site

GET = ["GET"]
POST = ["POST"]
BOTH = ["GET", "POST"]


def build_pages(plugin: PluginRuntime) -> list[BaseRoute]:
    """The routes of the site, served at the root by the host (``byway_register_pages``)."""
    site = Site(plugin)
    page = site.page
    return [
        Route("/", page(learning.catalog), methods=GET),
        Route("/courses/{course_id}", page(learning.course_page), methods=GET),
        Route("/courses/{course_id}/enroll", page(purchase.enroll), methods=POST),
        Route("/courses/{course_id}/buy", page(purchase.buy), methods=POST),
        Route("/courses/{course_id}/certificate", page(mine.course_certificate), methods=GET),
        Route("/lessons/{lesson_id}", page(learning.lesson_page), methods=GET),
        Route("/lessons/{lesson_id}/progress", page(learning.mark_progress), methods=POST),
        Route("/register", page(account.register), methods=BOTH),
        Route("/login", page(account.login), methods=BOTH),
        Route("/logout", page(account.logout), methods=BOTH),
        Route("/forgot-password", page(account.forgot_password), methods=BOTH),
        Route("/reset-password", page(account.reset_password), methods=BOTH),
        Route("/verify-email", page(account.verify_email), methods=BOTH),
        Route("/verify-email/resend", page(account.resend_verification), methods=POST),
        Route("/my/courses", page(mine.my_courses), methods=GET),
        Route("/my/orders", page(purchase.my_orders), methods=GET),
        Route("/certificates/{code}", page(mine.certificate_page), methods=GET),
        Route("/checkout/success", page(purchase.checkout_success), methods=GET),
        Route("/checkout/status", page(purchase.checkout_status), methods=GET),
        Route("/checkout/cancel", page(purchase.checkout_cancel), methods=GET),
        Route("/teach", page(teach.teach_home), methods=GET),
        Route("/teach/profile", page(teach.create_profile), methods=POST),
        Route("/teach/courses/new", page(teach.new_course), methods=BOTH),
        Route("/teach/courses/{course_id}", page(teach.edit_course), methods=BOTH),
        Route("/teach/courses/{course_id}/publish", page(teach.publish_course), methods=POST),
        Route("/teach/courses/{course_id}/modules", page(outline.add_module), methods=POST),
        Route("/teach/courses/{course_id}/modules/move", page(outline.move_module), methods=POST),
        Route("/teach/modules/{module_id}", page(outline.update_module), methods=POST),
        Route("/teach/modules/{module_id}/delete", page(outline.delete_module), methods=POST),
        Route("/teach/modules/{module_id}/lessons", page(outline.add_lesson), methods=POST),
        Route("/teach/modules/{module_id}/lessons/move", page(outline.move_lesson), methods=POST),
        Route("/teach/lessons/{lesson_id}", page(outline.edit_lesson), methods=BOTH),
        Route("/teach/lessons/{lesson_id}/delete", page(outline.delete_lesson), methods=POST),
        Mount(ASSETS_PATH, app=StaticFiles(directory=STATIC_DIR), name="storefront-assets"),
    ]
