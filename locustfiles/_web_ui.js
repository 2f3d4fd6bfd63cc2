// careerload's panel above Locust's web UI (see locustfiles/_web_ui.py): what the form would start (the
// scenario picker, Peak users and Time scale as they read now), what plays once started, and the link to
// careerload's report once STOP has written it. Plain DOM, no library, nothing fetched from elsewhere.
(function () {
  "use strict";
  const stateUrl = new URL("state", document.currentScript.src);
  const reportUrl = new URL("report", document.currentScript.src);
  const panel = document.createElement("section");
  panel.id = "careerload-panel";
  panel.setAttribute("aria-label", "careerload scenario");
  panel.style.cssText = "font: 14px/1.45 system-ui, sans-serif; padding: 10px 16px; background: #f4f1e8;" +
    "color: #222; border-bottom: 1px solid #c9c2ad;";
  document.body.insertBefore(panel, document.body.firstChild);

  function field(name) {  // Locust's form names its fields in camelCase (time_scale -> timeScale)
    const input = document.querySelector('[name="' + name + '"]');
    return input ? input.value : "";
  }

  function line(parent, label, text, id) {
    const row = document.createElement("div");
    if (id) row.id = id;
    const strong = document.createElement("strong");
    strong.textContent = label + " ";
    row.append(strong, document.createTextNode(text));
    parent.append(row);
    return row;
  }

  function render(data) {
    panel.replaceChildren();
    const shown = data.playing || data.selected;
    const verb = data.playing ? (data.state === "stopped" ? "Played" : "Playing") : "Will play";
    if (data.error && !data.playing) {
      line(panel, "careerload:", data.error, "careerload-error");
    }
    if (shown) {
      const title = line(panel, verb + ":", shown.name + " \u2014 " + shown.question, "careerload-scenario");
      title.dataset.scenario = shown.name;
      line(panel, "Shape:", shown.kind + ": " + shown.stages.join(", ") + "; " + shown.peak + ", " +
        shown.duration + " (time scale " + shown.time_scale + ")", "careerload-shape");
    }
    if (!data.playing) {
      line(panel, "Users and ramp:", "come from the shape (Locust's own fields stay disabled); set Peak users " +
        "and Time scale under Custom parameters. STOP writes the run directory and careerload's report.");
    }
    if (data.report === "written") {
      const row = line(panel, "Report:", "");
      const link = document.createElement("a");
      link.id = "careerload-report";
      link.href = reportUrl.href;
      link.textContent = "careerload report.html";
      row.append(link, document.createTextNode(" (" + data.run_dir + ")"));
    } else if (data.report) {
      line(panel, "Report:", data.report === "writing" ? "being written\u2026" : "failed: see locust.log",
        "careerload-report-state");
    }
  }

  let last = "";
  async function refresh() {
    const query = new URLSearchParams({
      scenario: field("scenario"), time_scale: field("timeScale"), peak_users: field("peakUsers"),
    });
    try {
      const response = await fetch(stateUrl.href + "?" + query.toString(), {credentials: "same-origin"});
      const text = await response.text();
      if (text !== last) {
        last = text;
        render(JSON.parse(text));
      }
    } catch (error) {
      panel.textContent = "careerload: the Locust process does not answer (" + error + ")";
      last = "";
    }
  }
  refresh();
  setInterval(refresh, 1000);
})();
