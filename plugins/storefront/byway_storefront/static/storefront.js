/* Byway storefront: small progressive enhancements. Every page works without this file,
   except that the checkout success page then needs its "Check again" link. */
(function () {
  "use strict";

  // Forms marked data-confirm ask before they are sent (deleting modules and lessons).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // A cover image that cannot be loaded (its site is down or offline) gives way to the placeholder.
  document.addEventListener("error", function (event) {
    var image = event.target;
    if (image && image.tagName === "IMG" && image.classList.contains("cover")) {
      var stand = document.createElement("div");
      stand.className = image.className + " placeholder";
      stand.setAttribute("aria-hidden", "true");
      stand.appendChild(document.createElement("span")).textContent = image.getAttribute("data-initial") || "";
      image.replaceWith(stand);
    }
  }, true);

  // An error summary gets the focus, so screen readers read it and keyboards start there.
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.focus();
  }

  // The checkout success page asks /checkout/status until the order is paid and enrolled.
  var box = document.getElementById("checkout");
  if (!box || box.getAttribute("data-final") === "true") {
    return;
  }
  var statusUrl = box.getAttribute("data-status-url");
  var limit = (parseInt(box.getAttribute("data-poll-seconds"), 10) || 60) * 1000;
  var started = Date.now();
  var delay = 1000;
  var state = document.getElementById("checkout-state");
  var title = document.getElementById("checkout-title");
  var late = document.getElementById("checkout-late");
  var lateStatus = document.getElementById("checkout-late-status");
  var refresh = document.getElementById("checkout-refresh");

  function text(tag, content) {
    var node = document.createElement(tag);
    node.textContent = content;
    return node;
  }

  function done(result) {
    title.textContent = "You are enrolled";
    document.title = "You are enrolled · Byway";
    state.textContent = "";
    state.appendChild(text("p", "Thank you! Your payment is confirmed and your course is ready."));
    var list = document.createElement("ul");
    list.className = "plain";
    list.id = "checkout-courses";
    (result.courses || []).forEach(function (course) {
      var item = document.createElement("li");
      var link = text("a", "Start " + course.title);
      link.href = course.url;
      link.className = "button primary";
      item.appendChild(link);
      list.appendChild(item);
    });
    state.appendChild(list);
    if (refresh) { refresh.hidden = true; }
    if (late) { late.hidden = true; }
  }

  function giveUp(status) {
    if (lateStatus && status) { lateStatus.textContent = String(status).toLowerCase(); }
    var progress = document.getElementById("checkout-progress");
    if (progress) { progress.hidden = true; }
    title.textContent = "Your payment is not confirmed yet";
    if (late) { late.hidden = false; }
  }

  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { ok: false }; })
      .catch(function () { return { ok: false }; })
      .then(function (result) {
        if (result.ok) { done(result); return; }
        if (["CANCELLED", "REVIEW", "REFUNDED"].indexOf(result.status) >= 0) { window.location.reload(); return; }
        if (Date.now() - started >= limit) { giveUp(result.status); return; }
        delay = Math.min(delay * 1.5, 5000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
