// Drives the live dashboard of a running `agentstream run` in headless Chromium (Debian's
// chromium, through playwright-core): the page loads with no console errors, the charts update
// from the event stream, an alert appears when a rule fires, and event content is shown as text
// (an HTML payload in an event is never interpreted).
//   node dashboard.cjs URL TOKEN SCREENSHOT   (env BAD_EVENT_CMD: a command that makes a rule fire)
"use strict";
const path = require("path");
const { execSync } = require("child_process");
const { chromium } = require(path.join(__dirname, "../../web/node_modules/playwright-core"));

const [url, token, screenshot] = process.argv.slice(2);
let failures = 0;
function check(name, ok, detail) {
  console.log((ok ? "ok: " : "FAIL: ") + name + (ok || detail === undefined ? "" : ": " + detail));
  if (!ok) failures++;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
    const problems = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(m.type() + ": " + m.text()); });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("requestfailed", (r) => { if (!r.url().includes("/events")) problems.push("request failed: " + r.url()); });
    page.on("response", (r) => { if (r.status() >= 400) problems.push("HTTP " + r.status() + ": " + r.url()); });

    const response = await page.goto(url + "/?access_token=" + encodeURIComponent(token));
    check("the page loads", response && response.status() === 200, response && response.status());
    await page.waitForSelector("#connection.live", { timeout: 15000 });
    check("the event stream is live", true);

    // The charts: uPlot canvases, and their point count grows with each tick.
    await page.waitForFunction(() => Number(document.getElementById("chart-throughput").dataset.points) >= 2, null, { timeout: 15000 });
    const before = await page.evaluate(() => Number(document.getElementById("chart-throughput").dataset.points));
    await page.waitForFunction((n) => Number(document.getElementById("chart-throughput").dataset.points) >= n + 2, before, { timeout: 15000 });
    const after = await page.evaluate(() => Number(document.getElementById("chart-throughput").dataset.points));
    check("the throughput chart updates from the stream", after >= before + 2, before + " -> " + after);
    check("both charts are drawn", await page.evaluate(() => document.querySelectorAll("#chart-throughput canvas, #chart-latency canvas").length) === 2);
    await page.waitForFunction(() => parseFloat(document.getElementById("kpi-eps").textContent) > 0, null, { timeout: 20000 });
    check("events per second is measured (> 0)", true);
    await page.waitForFunction(() => document.querySelectorAll("#events tbody td.content").length > 0, null, { timeout: 15000 });
    check("the recent-events tail fills", true);
    check("the routes table lists the route", (await page.textContent("#routes tbody")).includes("tasks"));
    check("health tiles are shown", await page.evaluate(() => document.querySelectorAll("#health .tile").length) >= 2);

    // A rule fires: an undecodable event carrying HTML is dead-lettered.
    execSync(process.env.BAD_EVENT_CMD, { stdio: "inherit", shell: "/bin/bash" });
    await page.waitForFunction(() => document.querySelector("#alerts tbody").textContent.includes("dead_letters_seen"), null, { timeout: 20000 });
    check("the alert appears in the active alerts", true);
    check("it is counted by severity", (await page.textContent("#alert-counts")).includes("high 1"));
    await page.waitForFunction(() => document.querySelector("#transitions tbody").textContent.includes("firing"), null, { timeout: 10000 });
    check("the firing transition is listed", true);
    await page.waitForFunction(() => document.querySelector("#events tbody").textContent.includes("<img"), null, { timeout: 15000 });
    const injected = await page.evaluate(() => ({ images: document.querySelectorAll("main img").length, flag: window.__xss === 1 }));
    check("event content is shown as text, never as HTML", injected.images === 0 && !injected.flag, JSON.stringify(injected));

    if (screenshot) {
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log("screenshot: " + screenshot);
    }
    check("no console errors or failed requests", problems.length === 0, "\n  " + problems.join("\n  "));
  } finally {
    await browser.close();
  }
  if (failures) {
    console.log(failures + " check(s) failed");
    process.exit(1);
  }
  console.log("all checks passed");
})().catch((e) => { console.log("FAIL: " + (e && e.stack || e)); process.exit(1); });
