/*
 * Draw the dashboard's plotly charts from the figures the page passes with json_script
 * (element id "dashboard-figures": {elementId: {data, layout}}). No inline scripts: this
 * file and the vendored plotly (static/vendor/plotly) are loaded with defer.
 * Each chart also has a caption and a data table on the page, so nothing is lost when
 * JavaScript or plotly is unavailable.
 */
(function () {
  "use strict";

  // Below this width a chart of categories (cohorts, standards) is turned on its side:
  // one row per category, names written across, so a phone never shows vertical labels.
  var NARROW = window.matchMedia("(max-width: 640px)");
  var ROW_HEIGHT = 64; // px per category when sideways
  var LEGEND_CHARACTERS = 34; // a legend line on a phone
  var AXIS_TITLE_CHARACTERS = 24; // an axis title line beside names on a phone
  var MOST_CATEGORIES = 12; // more than this (months of several years) stays upright

  function swapKeys(object, a, b) {
    var copy = Object.assign({}, object);
    var hasA = Object.prototype.hasOwnProperty.call(object, a);
    var hasB = Object.prototype.hasOwnProperty.call(object, b);
    delete copy[a];
    delete copy[b];
    if (hasA) { copy[b] = object[a]; }
    if (hasB) { copy[a] = object[b]; }
    return copy;
  }

  function swapHover(template) {
    return typeof template === "string"
      ? template.replace(/%\{x/g, "%{__y").replace(/%\{y/g, "%{x").replace(/%\{__y/g, "%{y")
      : template;
  }

  // Re-wrap a legend entry to lines of at most `width` characters (words kept whole).
  function rewrap(text, width) {
    if (typeof text !== "string") { return text; }
    var lines = [];
    var line = "";
    text.replace(/<br>/g, " ").split(/\s+/).forEach(function (word) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    });
    lines.push(line);
    return lines.join("<br>");
  }

  // On a phone, ticks stay level: a percentage x axis keeps 0%, 50% and 100% (room for the
  // names beside it) and a date axis at most four dates.
  function levelTicks(layout) {
    var axis = layout.xaxis || {};
    if (axis.ticktext && axis.ticktext[axis.ticktext.length - 1] === "100%") {
      layout.xaxis = Object.assign({}, axis, { tickvals: [0, 50, 100], ticktext: ["0%", "50%", "100%"], tickangle: 0 });
    } else if (axis.type === "date") {
      layout.xaxis = Object.assign({}, axis, { nticks: 4, tickangle: 0 });
    }
    return layout;
  }

  // Return the figure with x and y exchanged: categories on the y axis, top to bottom in
  // the page's order; bars horizontal, error bars and short national dashes turned too.
  function sideways(figure, categories) {
    var data = figure.data.map(function (trace) {
      var turned = swapKeys(swapKeys(trace, "x", "y"), "error_x", "error_y");
      if (trace.type === "bar") {
        turned.orientation = "h";
      }
      if (trace.marker && typeof trace.marker.symbol === "string") {
        turned.marker = Object.assign({}, trace.marker, { symbol: trace.marker.symbol.replace("line-ew", "line-ns") });
      }
      turned.hovertemplate = swapHover(trace.hovertemplate);
      turned.name = rewrap(trace.name, LEGEND_CHARACTERS);
      return turned;
    });
    var layout = swapKeys(figure.layout, "xaxis", "yaxis");
    layout.yaxis = Object.assign({}, layout.yaxis, { autorange: "reversed", title: { text: "" } });
    var xTitle = layout.xaxis && layout.xaxis.title ? layout.xaxis.title.text : "";
    layout.xaxis = Object.assign({}, layout.xaxis, { tickangle: 0, title: { text: rewrap(xTitle, AXIS_TITLE_CHARACTERS) } });
    layout.height = Math.max(320, 140 + ROW_HEIGHT * categories);
    return { data: data, layout: layout };
  }

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
      var isCategoryChart = figure.layout.xaxis && figure.layout.xaxis.type === "category";
      var categories = Math.max.apply(null, figure.data.map(function (trace) { return (trace.x || []).length; }).concat([0]));
      if (isCategoryChart && NARROW.matches && categories <= MOST_CATEGORIES) {
        figure = sideways(figure, categories);
      }
      // The page's heading and caption above the chart say what its title and note say
      // (the PNG download keeps them): leave them out so the legend sits at the top.
      var layout = Object.assign({}, figure.layout, { title: { text: "" } });
      layout.margin = Object.assign({}, layout.margin, { t: 20 });
      if (NARROW.matches) {
        layout = levelTicks(layout);
      }
      element.classList.add("dashboard-chart--drawn");
      window.Plotly.react(element, figure.data, layout, {
        responsive: true,
        displayModeBar: false,
        displaylogo: false
      });
    });
  }

  // Crossing the narrow width (a phone turned, a window resized) redraws the charts.
  if (NARROW.addEventListener) {
    NARROW.addEventListener("change", drawCharts);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();
