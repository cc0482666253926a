// Drafts of record forms kept in this browser until the record is created.
//
// A form marked data-draft="<key>" has what is typed saved in localStorage under that key
// at every change; opening the form again (a fresh form, data-fresh="1") puts the saved
// values back.  A form the server sent back (a refused post, a row added) shows what was
// posted, which is then the draft.  Pressing "create" keeps the draft: it is dropped when
// the created record's page is reached (the form's page is left for the record's page),
// so a post lost on the way loses nothing.  Hidden inputs (the security and one-time
// tokens) are never saved or restored; the row counts of the tables are saved, and a draft
// with more rows than the fresh form has asks the server for the form with that many rows
// (rows.KEY=N in the address) before its values are put back.
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft]");
  if (!window.localStorage || !window.sessionStorage) { return; }
  if (!form) {
    // a record's page: reached after "create" or "revise" only when the record was made
    var pending = sessionStorage.getItem("qdocs-draft-pending");
    if (pending && document.querySelector("[data-record-page]")) {
      localStorage.removeItem(pending);
      sessionStorage.removeItem("qdocs-draft-pending");
    }
    return;
  }
  var key = form.getAttribute("data-draft");

  function fields() {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.name && element.type !== "hidden" && element.type !== "submit" && element.type !== "button";
    });
  }

  function rowCounts() {
    var counts = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[type=hidden][name^='rows.']"), function (element) {
      counts[element.name] = parseInt(element.value, 10) || 0;
    });
    return counts;
  }

  function save() {
    var values = {};
    fields().forEach(function (element) {
      values[element.name] = element.type === "checkbox" ? (element.checked ? element.value : "") : element.value;
    });
    try {
      localStorage.setItem(key, JSON.stringify({ values: values, rows: rowCounts() }));
    } catch (ignored) { /* full or refused */ }
  }

  // the address of this form with the rows the draft had, or null when it has them already
  function addressWithRows(saved) {
    var have = rowCounts(), address = new URL(window.location.href), more = false;
    Object.keys(saved.rows || {}).forEach(function (name) {
      if (Object.prototype.hasOwnProperty.call(have, name) && saved.rows[name] > have[name]
          && address.searchParams.get(name) !== String(saved.rows[name])) {
        address.searchParams.set(name, String(saved.rows[name]));
        more = true;
      }
    });
    return more ? address.toString() : null;
  }

  function restore() {
    var saved = null;
    try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch (ignored) { saved = null; }
    if (!saved || !saved.values) { return; }
    var larger = addressWithRows(saved);
    if (larger) { window.location.replace(larger); return; }
    fields().forEach(function (element) {
      if (!Object.prototype.hasOwnProperty.call(saved.values, element.name)) { return; }
      var value = saved.values[element.name];
      if (element.type === "checkbox") { element.checked = value === element.value; } else { element.value = value; }
    });
    var note = document.createElement("p");
    note.className = "message draft-restored";
    note.textContent = "已恢复未提交的草稿 A draft typed earlier was restored";
    form.parentNode.insertBefore(note, form);
  }

  if (form.getAttribute("data-fresh") === "1") { restore(); } else { save(); }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  form.addEventListener("submit", function (event) {
    save();
    var button = event.submitter;
    if (button && button.value === "create") {
      // the record's page is where a created record ends: remember to drop the draft there
      try { sessionStorage.setItem("qdocs-draft-pending", key); } catch (ignored) { /* refused */ }
    }
  });
}());
