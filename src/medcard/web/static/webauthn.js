/* MedCard WebAuthn helper (vendored, no CDN): register this device's platform authenticator
   (fingerprint / face ID) and step up with it (R-SEC-04). Talks to /api/v1/devices/... with the
   page's session cookie and CSRF token. Buttons opt in with data-webauthn="register" or "step-up". */
(function () {
  "use strict";

  function fromB64url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function post(url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      // A cookie-authenticated API call must carry the page's CSRF token (ADR 0008).
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) throw data;
    return data;
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: fromB64url(item.id) });
    });
  }

  function asJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toB64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      out.response.attestationObject = toB64url(response.attestationObject);
      if (response.getTransports) out.response.transports = response.getTransports();
    }
    if (response.authenticatorData) {
      out.response.authenticatorData = toB64url(response.authenticatorData);
      out.response.signature = toB64url(response.signature);
      if (response.userHandle) out.response.userHandle = toB64url(response.userHandle);
    }
    return out;
  }

  async function register() {
    var options = await post("/api/v1/devices/webauthn/registration/options");
    options.challenge = fromB64url(options.challenge);
    options.user.id = fromB64url(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    var credential = await navigator.credentials.create({ publicKey: options });
    return post("/api/v1/devices/webauthn/registration", { credential: asJSON(credential) });
  }

  async function stepUp() {
    var options = await post("/api/v1/devices/step-up/webauthn/options");
    options.challenge = fromB64url(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    var credential = await navigator.credentials.get({ publicKey: options });
    return post("/api/v1/devices/step-up/webauthn", { credential: asJSON(credential) });
  }

  // The browser's own WebAuthn errors are English machine text ("This is an invalid domain.");
  // a person reads what happened and what to do, in the page language (issue 9).
  var BROWSER_ERRORS = {
    NotAllowedError: ["操作已取消或超时，请重试。", "Cancelled or timed out; try again."],
    SecurityError: ["当前网址不支持指纹/面容验证，请从正式网址打开本页面，或改用其他验证方式。",
      "Fingerprint / face ID does not work at this address; open the page from its official address or use another method."],
    InvalidStateError: ["这台设备已经登记过。", "This device is already registered."],
    NotSupportedError: ["此设备不支持指纹/面容验证，请改用其他验证方式。", "This device has no fingerprint / face ID; use another method."],
    AbortError: ["操作已取消，请重试。", "Cancelled; try again."]
  };
  function browserError(error, lang) {
    var known = BROWSER_ERRORS[error && error.name];
    var pair = known || ["指纹/面容验证未完成，请重试或改用其他验证方式。", "Fingerprint / face ID did not finish; try again or use another method."];
    return lang === "zh" ? pair[0] : pair[1];
  }

  function say(button, text, ok) {
    var status = document.getElementById(button.getAttribute("data-status") || "webauthn-status");
    if (!status) return;
    status.textContent = text;
    status.setAttribute("data-ok", ok ? "1" : "0");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-webauthn]").forEach(function (button) {
      if (!window.PublicKeyCredential) {
        button.disabled = true;
        say(button, button.getAttribute("data-unsupported") || "", false);
        return;
      }
      button.addEventListener("click", async function () {
        button.disabled = true;
        try {
          if (button.getAttribute("data-webauthn") === "register") await register();
          else await stepUp();
          say(button, button.getAttribute("data-done") || "OK", true);
          var next = button.getAttribute("data-next");
          if (next) window.location.assign(next);
        } catch (error) {
          var lang = document.documentElement.lang === "en" ? "en" : "zh";
          var text = error && error.title ? (lang === "zh" ? error.title_zh : error.title) : browserError(error, lang);
          say(button, text, false);
          button.disabled = false;
        }
      });
    });
  });
})();
