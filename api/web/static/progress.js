// Polls the state of an import or a run and reloads the page when it is finished.
(function () {
  var box = document.querySelector("[data-state-url]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector(".progress-text");
  var labels = {uploaded: "ожидает импорта", importing: "идёт ФЛК и импорт", queued: "в очереди", running: "выполняется"};
  function poll() {
    fetch(box.getAttribute("data-state-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var pct = Math.round((s.progress || 0) * 100);
        bar.value = pct;
        text.textContent = (labels[s.status] || s.status) + ": " + pct + " %";
        if (s.final) { window.location.reload(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
