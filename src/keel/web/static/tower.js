// Control tower: draw the Plotly figures the page carries as JSON, and reload the page every few seconds.
(function () {
  "use strict";
  var data = document.getElementById("chart-data");
  if (data && window.Plotly) {
    JSON.parse(data.textContent).forEach(function (chart) {
      window.Plotly.newPlot(chart.id, chart.data, chart.layout, { displayModeBar: false, responsive: true });
    });
  }
  var every = Number(document.body.dataset.refresh || 0);
  if (every > 0) {
    var reload = function () {
      if (document.hidden) {  // a background tab reloads when it is shown again
        document.addEventListener("visibilitychange", reload, { once: true });
      } else {
        window.location.reload();
      }
    };
    window.setTimeout(reload, every * 1000);
  }
})();
