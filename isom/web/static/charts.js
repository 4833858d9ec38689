/* Draw every chart of a page: each <script type="application/json" data-chart="<div id>"> holds
 * a plotly figure for the element it names. Needs /charts/plotly.min.js loaded first. */
document.querySelectorAll("script[data-chart]").forEach(function (el) {
  var fig = JSON.parse(el.textContent);
  Plotly.newPlot(el.dataset.chart, fig.data, fig.layout, {responsive: true, displaylogo: false});
});
