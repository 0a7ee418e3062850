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

  // Payment code and 医保码 (any [data-expiring] container): count down the code's lifetime and
  // fetch a new one when it runs out (R-SEC-02). Each code box remembers when it was first shown.
  function paymentCountdown() {
    var containers = document.querySelectorAll("[data-expiring]");
    if (!containers.length) return;
    setInterval(function () {
      Array.prototype.forEach.call(containers, function (container) {
        var box = container.querySelector("[data-ttl]");
        var out = container.querySelector("[data-countdown-out]");
        if (!box || !out) return;
        if (!box.dataset.shownAt) box.dataset.shownAt = String(Date.now());
        var left = Math.max(0, Math.ceil(Number(box.dataset.ttl) - (Date.now() - Number(box.dataset.shownAt)) / 1000));
        out.textContent = left;
        if (left === 0 && !box.dataset.refreshing) {
          box.dataset.refreshing = "1";
          htmx.trigger(container, "refresh");
        }
      });
    }, 250);
  }

  // Read-aloud (长辈模式, R-A11Y-01): the browser's speech synthesis speaks the payment code digit
  // by digit, and the result (支付成功, amount, where) when it arrives. Where the browser has no
  // speech synthesis, the buttons give way to a written fallback.
  var speechOk = "speechSynthesis" in window && typeof window.SpeechSynthesisUtterance === "function";
  function say(text) {
    var box = document.getElementById("speak-box");
    if (!speechOk || !box) return false;
    window.speechSynthesis.cancel();
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = box.dataset.lang || "zh-CN";
    utterance.rate = 0.85;
    window.speechSynthesis.speak(utterance);
    box.dataset.spoken = text;
    return true;
  }
  function codeText() {
    var digits = document.getElementById("code-digits");
    if (!digits) return "";
    var zh = document.documentElement.lang !== "en";
    return (zh ? "付款码：" : "Payment code: ") + digits.dataset.code.split("").join(" ");
  }
  function resultText() {
    var result = document.getElementById("payment-result");
    return result ? result.innerText.replace(/\s+/g, " ").trim() : "";
  }
  function setUpSpeech() {
    var box = document.getElementById("speak-box");
    if (!box) return;
    if (!speechOk) {
      var button = document.getElementById("speak-code");
      if (button) button.hidden = true;
      document.getElementById("speak-missing").hidden = false;
      return;
    }
    document.addEventListener("click", function (event) {
      if (event.target && event.target.id === "speak-code") say(resultText() || codeText());
    });
    // A result replaced the code: say it at once in elder mode, and mark step ③ as current.
    document.body.addEventListener("htmx:afterSettle", function () {
      var result = document.getElementById("payment-result");
      if (!result || result.dataset.announced) return;
      result.dataset.announced = "1";
      var steps = document.querySelectorAll("#elder-steps li");
      if (steps.length === 3) {
        steps.forEach(function (li) { li.classList.remove("current"); li.removeAttribute("aria-current"); });
        steps[2].classList.add("current");
        steps[2].setAttribute("aria-current", "step");
      }
      var button = document.getElementById("speak-code");
      if (button) button.textContent = document.documentElement.lang !== "en" ? "朗读结果" : "Read the result aloud";
      if (document.body.classList.contains("elder")) say(resultText());
    });
  }

  // While the card's QR is shown, ask the browser to keep the screen on (Screen Wake Lock, where
  // supported); the page also tells the patient to turn the brightness up.
  var wakeLock = null;
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details || details.id !== "show-card" || !("wakeLock" in navigator)) return;
    if (details.open) {
      navigator.wakeLock.request("screen").then(function (lock) { wakeLock = lock; }).catch(function () {});
    } else if (wakeLock) {
      wakeLock.release().catch(function () {});
      wakeLock = null;
    }
  }, true);

  // ---- Errors and feedback (issue 9) -------------------------------------------------------
  function isZh() { return document.documentElement.lang !== "en"; }

  // Confirmation before an action that is hard to undo (冻结 / 挂失 / 解绑): a form with
  // data-confirm="question" asks in a <dialog> first. Runs in the capture phase, before the busy
  // state below and before HTMX; a confirmed form is submitted again with the same button.
  function confirmDialog() {
    var dialog = document.getElementById("confirm-dialog");
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.id = "confirm-dialog";
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-text");
    var text = document.createElement("p");
    text.id = "confirm-text";
    var buttons = document.createElement("div");
    buttons.className = "confirm-buttons";
    var cancel = document.createElement("button");
    cancel.type = "button"; cancel.id = "confirm-cancel"; cancel.className = "button secondary";
    cancel.textContent = isZh() ? "取消" : "Cancel";
    var ok = document.createElement("button");
    ok.type = "button"; ok.id = "confirm-ok"; ok.className = "button danger";
    ok.textContent = isZh() ? "确定" : "Confirm";
    buttons.appendChild(cancel); buttons.appendChild(ok);
    dialog.appendChild(text); dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    cancel.addEventListener("click", function () { dialog.close(); });
    return dialog;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
    if (!question || form.dataset.confirmed === "1") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter || null;
    var dialog = confirmDialog();
    if (typeof dialog.showModal !== "function") {
      if (window.confirm(question)) { form.dataset.confirmed = "1"; form.requestSubmit(submitter); }
      return;
    }
    document.getElementById("confirm-text").textContent = question;
    var ok = document.getElementById("confirm-ok");
    var fresh = ok.cloneNode(true);  // one listener per question
    ok.parentNode.replaceChild(fresh, ok);
    fresh.addEventListener("click", function () {
      dialog.close();
      form.dataset.confirmed = "1";
      form.requestSubmit(submitter);
    });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  }, true);

  // Busy submit buttons: while a form's request runs its submit buttons are disabled and show a
  // spinner, so a second tap (a double-submitted application) never sends it twice.
  function setBusy(form, busy) {
    var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.disabled = busy;
      button.classList.toggle("is-busy", busy);
      if (busy) button.setAttribute("aria-busy", "true"); else button.removeAttribute("aria-busy");
    });
    if (busy) form.setAttribute("data-busy", "1"); else form.removeAttribute("data-busy");
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.hasAttribute("data-no-busy") || form.target) return;
    if (form.hasAttribute("data-busy")) { event.preventDefault(); return; }
    if (form.getAttribute("method") && form.getAttribute("method").toLowerCase() === "post") saveDraft(form);
    // After the other handlers (HTMX prevents the default and sends it itself, see below), and
    // after the browser has read the submit button's name and value.
    setTimeout(function () { if (!event.defaultPrevented) setBusy(form, true); }, 0);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (elt instanceof HTMLFormElement && trigger && trigger.type === "submit") setBusy(elt, true);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt instanceof HTMLFormElement && elt.hasAttribute("data-busy")) setBusy(elt, false);
  });
  // Back to a page from the browser's cache: its forms are usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    Array.prototype.forEach.call(document.querySelectorAll("form[data-busy]"), function (form) { setBusy(form, false); });
  });

  // Expired session in the middle of a form: every posted form's typed values are kept in this
  // tab (sessionStorage; never passwords, files or tokens). The login page that says "登录已过期"
  // arms the restore; the form page the login returns to fills them back in once.
  var DRAFT = "medcard:draft:";
  var RESTORE = "medcard:restore";
  function draftKey(form) { return DRAFT + location.pathname + "#" + (form.id || form.getAttribute("action") || ""); }
  function saveDraft(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      var type = (el.type || "").toLowerCase();
      if (!el.name || el.disabled || ["password", "file", "hidden", "submit", "button"].indexOf(type) >= 0) return;
      if (el.name === "pin" || el.name === "csrf_token") return;
      if (type === "checkbox" || type === "radio") {
        if (el.checked) (values[el.name] = values[el.name] || []).push(el.value);
        return;
      }
      values[el.name] = [el.value];
    });
    try { sessionStorage.setItem(draftKey(form), JSON.stringify(values)); } catch (e) { /* private mode */ }
  }
  function restoreDrafts() {
    var store;
    try { store = window.sessionStorage; } catch (e) { return; }
    if (document.getElementById("session-expired")) { store.setItem(RESTORE, "1"); return; }
    if (store.getItem(RESTORE) !== "1" || /^\/(login|sandbox|auth)\b/.test(location.pathname)) return;
    var restored = 0;
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      var raw = store.getItem(draftKey(form));
      if (!raw) return;
      var values = JSON.parse(raw);
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || !Object.prototype.hasOwnProperty.call(values, el.name)) return;
        var type = (el.type || "").toLowerCase();
        if (type === "checkbox" || type === "radio") el.checked = values[el.name].indexOf(el.value) >= 0;
        else if (["password", "file", "hidden", "submit", "button"].indexOf(type) < 0) el.value = values[el.name][0];
      });
      form.dispatchEvent(new Event("change", { bubbles: true }));
      restored += 1;
    });
    store.removeItem(RESTORE);
    for (var i = store.length - 1; i >= 0; i--) { var key = store.key(i); if (key && key.indexOf(DRAFT) === 0) store.removeItem(key); }
    if (!restored) return;
    var notice = document.createElement("p");
    notice.id = "draft-restored";
    notice.className = "notice";
    notice.setAttribute("role", "status");
    notice.textContent = isZh() ? "已恢复您登录前填写的内容，请核对后提交。" : "What you typed before logging in is back; check it and submit.";
    var main = document.getElementById("main") || document.body;
    main.insertBefore(notice, main.firstChild);
  }


  // SMS code buttons: after a code was sent, the send button waits out the resend interval
  // (data-countdown seconds) and says so, then offers a new code.
  function smsCountdown() {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-countdown]"), function (button) {
      var left = Number(button.getAttribute("data-countdown")) || 0;
      var label = button.textContent;
      var again = isZh() ? "重新获取验证码" : "Send a new code";
      function tick() {
        if (left <= 0) {
          button.disabled = false;
          button.textContent = again;
          button.removeAttribute("data-waiting");
          return;
        }
        button.disabled = true;
        button.setAttribute("data-waiting", String(left));
        button.textContent = isZh() ? "重新获取（" + left + " 秒）" : "New code in " + left + " s";
        left -= 1;
        setTimeout(tick, 1000);
      }
      if (label) tick();
    });
  }


  // Region picker: province → city → district selects instead of typing a GB/T 2260 code. The
  // code input stays in the form (hidden) and gets the most precise choice; "其他" shows it again
  // for a place the small table lacks. Without JS the input is simply typed.
  function regionPicker() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-region-picker]"), function (box) {
      var input = document.getElementById(box.getAttribute("data-region-picker"));
      if (!input) return;
      var names = JSON.parse(box.getAttribute("data-regions") || "{}");
      var labels = (box.getAttribute("data-labels") || "|||").split("|");
      var OTHER = "other";
      function level(code) { return /0000$/.test(code) ? 0 : /00$/.test(code) ? 1 : 2; }
      function kids(code, depth) {
        return Object.keys(names).filter(function (c) {
          if (depth === 0) return level(c) === 0;
          if (depth === 1) return level(c) === 1 && c.slice(0, 2) === code.slice(0, 2);
          return level(c) === 2 && c.slice(0, 4) === code.slice(0, 4);
        }).sort();
      }
      var selects = [0, 1, 2].map(function (depth) {
        var label = document.createElement("label");
        label.className = "region-level";
        label.textContent = labels[depth];
        var select = document.createElement("select");
        select.id = input.id + "-level" + depth;
        select.setAttribute("data-level", String(depth));
        label.setAttribute("for", select.id);
        box.appendChild(label); box.appendChild(select);
        return select;
      });
      function fill(select, codes, chosen, parent) {
        select.innerHTML = "";
        var blank = document.createElement("option");
        blank.value = ""; blank.textContent = isZh() ? "请选择" : "Choose";
        select.appendChild(blank);
        codes.forEach(function (code) {
          var option = document.createElement("option");
          option.value = code; option.textContent = names[code];
          select.appendChild(option);
        });
        var depth = Number(select.getAttribute("data-level"));
        if (depth > 0) {
          var other = document.createElement("option");
          other.value = OTHER; other.textContent = labels[3];
          select.appendChild(other);
        }
        select.value = chosen || "";
        var hide = depth > 0 && (!parent || (codes.length === 0 && depth === 2));
        select.hidden = hide;
        select.labels[0].hidden = hide;
      }
      function show(code) {
        var province = code ? code.slice(0, 2) + "0000" : "";
        var city = code && level(code) >= 1 ? code.slice(0, 4) + "00" : "";
        if (!names[province]) province = "";
        fill(selects[0], kids("", 0), province, "root");
        var cities = province ? kids(province, 1) : [];
        if (!city && cities.length === 1) city = cities[0];
        if (!names[city]) city = "";
        fill(selects[1], cities, city, province);
        fill(selects[2], city ? kids(city, 2) : [], names[code] && level(code) === 2 ? code : "", city);
      }
      function choose(value) {
        if (input.value === value) return;
        input.value = value;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
      selects.forEach(function (select, depth) {
        select.addEventListener("change", function (event) {
          event.stopPropagation();  // the form's autosave listens to the code input only
          if (select.value === OTHER) { input.hidden = false; input.focus(); return; }
          input.hidden = true;
          var code = select.value || (depth > 0 ? selects[depth - 1].value : "");
          show(code);
          // The most precise choice so far is the code (a city without listed districts is fine).
          if (select.value && (depth === 2 || kids(selects[1].value || select.value, depth + 1).length === 0 || depth === 1)) {
            choose(select.value);
          }
        });
      });
      var known = input.value === "" || Object.prototype.hasOwnProperty.call(names, input.value);
      show(known ? input.value : "");
      input.hidden = known;
      box.hidden = false;
      var label = document.querySelector('label[for="' + input.id + '"]');
      if (label) label.setAttribute("for", selects[0].id);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpSpeech();
    syncIdentityFields();
    resumeApplication();
    paymentCountdown();
    restoreDrafts();
    smsCountdown();
    regionPicker();
  });
})();
