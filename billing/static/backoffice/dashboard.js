/* Draws the dashboard charts from the JSON each <figure> carries (Chart.js, vendored). */
(function () {
  "use strict";
  var palette = ["#417690", "#e0a13a", "#70bf2b", "#ba2121", "#8a5cb8", "#5b8fa8", "#999999"];

  function draw(canvas) {
    var id = canvas.id.replace(/^chart-/, "");
    var source = document.getElementById(id);
    if (!source || typeof Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var stacked = canvas.dataset.stacked === "1";
    var kind = canvas.dataset.kind;
    data.datasets.forEach(function (dataset, index) {
      var colour = palette[index % palette.length];
      dataset.backgroundColor = colour;
      dataset.borderColor = colour;
      dataset.data = dataset.data.map(function (value) { return value === null ? null : Number(value); });
      if (kind === "line") { dataset.tension = 0.25; dataset.spanGaps = true; }
    });
    new Chart(canvas, {
      type: kind,
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: stacked },
          y: { stacked: stacked, beginAtZero: true }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".dashboard-chart canvas").forEach(draw);
  });
})();
