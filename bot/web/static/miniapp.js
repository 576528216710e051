// Telegram Mini App sign-in: Telegram opens this page with its signed initData in the URL
// fragment (tgWebAppData); we post it to the server, which checks Telegram's signature and
// sets the session cookie, then reload. Outside Telegram there is no initData: nothing happens.
(function () {
  "use strict";
  var data = new URLSearchParams(window.location.hash.slice(1)).get("tgWebAppData");
  if (!data) {
    return;
  }
  var root = document.querySelector('link[rel="stylesheet"]').getAttribute("href")
    .replace(/\/static\/style\.css$/, "");
  fetch(root + "/auth/telegram", {
    method: "POST",
    body: data,
    credentials: "same-origin",
    headers: { "Content-Type": "text/plain" }
  }).then(function (response) {
    if (response.ok) {
      window.location.replace(window.location.pathname);
    }
  });
})();
