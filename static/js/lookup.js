// Turn each <input data-lookup-url="…"> into GOV.UK's accessible autocomplete (vendored
// under static/vendor/accessible-autocomplete/). Without JavaScript the plain input
// stays and the server accepts a name or an employee number; with it, the suggestions
// come from the lookup URL (JSON: {"results": [{"value", "label"}]}) and the chosen
// label ("Priya Shah (EMP0042, Housing)") is submitted, which the server also reads.
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[data-lookup-url]");
  if (!inputs.length) {
    return;
  }
  var vendor = document.currentScript.src.replace(/js\/lookup\.js.*$/, "vendor/accessible-autocomplete/");

  function load() {
    var style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = vendor + "accessible-autocomplete.min.css";
    document.head.appendChild(style);
    var script = document.createElement("script");
    script.src = vendor + "accessible-autocomplete.min.js";
    script.onload = function () {
      inputs.forEach(enhance);
    };
    document.head.appendChild(script);
  }

  function source(url) {
    var timer = null;
    var controller = null;
    return function (query, populate) {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (controller) {
          controller.abort();
        }
        controller = new AbortController();
        fetch(url + "?q=" + encodeURIComponent(query), {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          signal: controller.signal,
        })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { populate(data.results.map(function (r) { return r.label; })); })
          .catch(function () { /* aborted or offline: keep the typed text */ });
      }, 200);
    };
  }

  function enhance(input) {
    var container = document.createElement("div");
    input.parentNode.insertBefore(container, input);
    var options = {
      element: container,
      id: input.id,
      name: input.name,
      defaultValue: input.value,
      minLength: 2,
      showNoOptionsFound: true,
      confirmOnBlur: false,
      source: source(input.getAttribute("data-lookup-url")),
      tNoResults: function () { return input.getAttribute("data-lookup-empty") || "No results found"; },
      inputClasses: input.classList.contains("govuk-input--error") ? "govuk-input--error" : null,
    };
    var describedBy = input.getAttribute("aria-describedby");
    input.remove();
    window.accessibleAutocomplete(options);
    if (describedBy) {
      var created = document.getElementById(options.id);
      var own = created.getAttribute("aria-describedby");
      created.setAttribute("aria-describedby", own ? describedBy + " " + own : describedBy);
    }
  }

  load();
})();
