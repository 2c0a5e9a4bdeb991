/*
 * Draw the dashboard's plotly charts from the figures the page passes with json_script
 * (element id "dashboard-figures": {elementId: {data, layout}}). No inline scripts: this
 * file and the vendored plotly (static/vendor/plotly) are loaded with defer.
 * Each chart also has a caption and a data table on the page, so nothing is lost when
 * JavaScript or plotly is unavailable.
 */
(function () {
  "use strict";

  function drawCharts() {
    var source = document.getElementById("dashboard-figures");
    if (!source || typeof window.Plotly === "undefined") {
      return;
    }
    var figures = JSON.parse(source.textContent);
    Object.keys(figures).forEach(function (id) {
      var element = document.getElementById(id);
      if (!element) {
        return;
      }
      var figure = figures[id];
      // The page's heading and caption above the chart say what its title and note say
      // (the PNG download keeps them): leave them out so the legend sits at the top.
      var layout = Object.assign({}, figure.layout, { title: { text: "" } });
      layout.margin = Object.assign({}, layout.margin, { t: 20 });
      element.classList.add("dashboard-chart--drawn");
      window.Plotly.newPlot(element, figure.data, layout, {
        responsive: true,
        displayModeBar: false,
        displaylogo: false
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();
