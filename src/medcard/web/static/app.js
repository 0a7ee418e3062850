/* MedCard page behaviour. Every script lives in a static file: the Content-Security-Policy
   allows no inline script or on…= handler (docs/adr/0008). Each part below acts only when its
   page's elements are present; every form still works without it. */
(function () {
  "use strict";

  // CSRF (ADR 0008): HTMX requests carry the page's token in a header.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // An HTMX request refused as forged (its page's token went stale: the login changed in another
  // tab) is not swapped in by HTMX; say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 403 || xhr.responseText.indexOf("CSRF_REFUSED") < 0) return;
    if (document.getElementById("stale-page")) return;
    var zh = document.documentElement.lang !== "en";
    var notice = document.createElement("div");
    notice.id = "stale-page";
    notice.className = "alert";
    notice.setAttribute("role", "alert");
    notice.setAttribute("data-code", "CSRF_REFUSED");
    notice.textContent = zh ? "页面已过期（登录状态已变化），请刷新页面后重试。" : "This page has expired (your login changed); reload it and try again.";
    var main = document.getElementById("main") || document.body;
    main.insertBefore(notice, main.firstChild);
  });

  // A <select data-autosubmit> submits its form when changed (the payment code's card choice).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-autosubmit]") && target.form) target.form.submit();
  });

  // A link with data-back goes back a page when there is one (its href is the fallback).
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("a[data-back]") : null;
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });

  // Identity forms: show only the inputs the chosen document type and method need.
  function syncIdentityFields() {
    var type = document.getElementById("document_type");
    var foreigner = document.getElementById("foreigner-fields");
    if (type && foreigner) foreigner.hidden = type.value !== "foreign_passport";
    var phone = document.getElementById("phone-field");
    var method = document.querySelector("input[name=method]:checked");
    if (phone && method) phone.hidden = !(method.value === "sms" || method.value === "bank_card");
  }
  document.addEventListener("change", syncIdentityFields);

  // Card application: after a photo prefill, drop the one-off notice from the address so a reload
  // resumes normally; otherwise bring the last saved field into view (autofocus alone is skipped
  // after a reload).
  function resumeApplication() {
    if (!document.getElementById("apply-form")) return;
    var url = new URL(location.href);
    if (url.searchParams.has("prefilled")) {
      url.searchParams.delete("prefilled");
      history.replaceState(null, "", url.pathname + url.search);
      return;
    }
    var field = document.querySelector("#apply-form [autofocus]");
    if (field) { field.focus(); field.scrollIntoView({ block: "center" }); }
  }

  // Payment code: count down its lifetime and fetch a new one when it runs out (R-SEC-02).
  function paymentCountdown() {
    if (!document.getElementById("payment-code")) return;
    var started = Date.now();
    document.body.addEventListener("htmx:afterSettle", function () { started = Date.now(); });
    setInterval(function () {
      var box = document.querySelector("#payment-code [data-ttl]");
      var out = document.getElementById("countdown");
      if (!box || !out) return;
      var left = Math.max(0, Math.ceil(Number(box.dataset.ttl) - (Date.now() - started) / 1000));
      out.textContent = left;
      if (left === 0 && !box.dataset.refreshing) {
        box.dataset.refreshing = "1";
        htmx.trigger("#payment-code", "refresh");
      }
    }, 250);
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncIdentityFields();
    resumeApplication();
    paymentCountdown();
  });
})();
