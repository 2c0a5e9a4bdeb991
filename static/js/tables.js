// Wrap each GOV.UK table that is not already in a scrolling box (the dashboard's have one)
// in a keyboard-focusable region that scrolls sideways, named by the table's caption or the
// heading before it, so that no page is wider than a 390 px phone. Without JavaScript the
// table is unchanged and the page scrolls instead.
(function () {
  "use strict";
  var count = 0;

  function nameOf(table) {
    var caption = table.querySelector("caption");
    if (caption && caption.textContent.trim()) {
      if (!caption.id) {
        count += 1;
        caption.id = "academy-table-caption-" + count;
      }
      return { labelledBy: caption.id };
    }
    var node = table;
    while (node && node !== document.body) {
      var previous = node.previousElementSibling;
      while (previous) {
        if (/^H[1-6]$/.test(previous.tagName)) {
          return { label: previous.textContent.trim() };
        }
        previous = previous.previousElementSibling;
      }
      node = node.parentElement;
    }
    return { label: "Table" };
  }

  function wrap(table) {
    if (table.parentElement.classList.contains("academy-table-scroll") ||
        table.closest(".dashboard-table-wrapper")) {
      return;
    }
    var box = document.createElement("div");
    box.className = "academy-table-scroll";
    box.setAttribute("role", "region");
    box.setAttribute("tabindex", "0");
    var name = nameOf(table);
    if (name.labelledBy) {
      box.setAttribute("aria-labelledby", name.labelledBy);
    } else {
      box.setAttribute("aria-label", name.label);
    }
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
    // Say so when the table is wider than its box (a phone): the columns on the right are
    // otherwise easy to miss.
    var hint = document.createElement("p");
    hint.className = "govuk-body-s academy-table-scroll__hint";
    hint.textContent = "Scroll sideways to see every column.";
    hint.hidden = true;
    box.parentNode.insertBefore(hint, box);
    boxes.push({ box: box, hint: hint });
  }

  var boxes = [];

  function showHints() {
    boxes.forEach(function (pair) {
      pair.hint.hidden = pair.box.scrollWidth <= pair.box.clientWidth + 1;
    });
  }

  function wrapAll(root) {
    root.querySelectorAll("table.govuk-table").forEach(wrap);
  }

  wrapAll(document);
  showHints();
  window.addEventListener("resize", showHints);
  // Tables swapped in by htmx (the import preview, the dashboard's recompute) too.
  document.addEventListener("htmx:load", function (event) { wrapAll(event.target); showHints(); });
})();
