"""A static HTML page to vet candidates by eye, and merging its decisions back.

The page needs no server: open it from disk. It lists the candidates with their
diagnostic plots (a panel per sector), ephemeris, eclipse geometry, centroid test,
catalogue matches and links to the star's ExoFOP and MAST pages, sorts and filters by
score, and takes keyboard decisions
(``a`` accept, ``r`` reject, ``u`` unsure, ``j``/``k`` or arrows to move). Decisions
stay in the browser's local storage until exported as CSV (tic, decision), which
``ebscan vetted`` merges into a vetted catalog.
"""

from __future__ import annotations

import csv
import html
import json
import math
import os

from ebscan.atomic import atomic_open, write_csv
from ebscan.errors import InputError

DECISIONS = ("accept", "reject", "unsure")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body { font-family: sans-serif; margin: 1em; }
#bar { position: sticky; top: 0; background: #fff; padding: .5em 0; border-bottom: 1px solid #ccc; }
.card { display: flex; gap: 1em; border: 2px solid transparent; padding: .4em; margin: .3em 0; }
.card.current { border-color: #3b6ea5; background: #f2f6fb; }
.card img { width: 360px; }
.accept { background: #e3f6e3; } .reject { background: #f9e1e1; } .unsure { background: #fdf6dc; }
.decision { font-weight: bold; text-transform: uppercase; }
kbd { border: 1px solid #999; border-radius: 3px; padding: 0 3px; }
</style></head><body>
<div id="bar">
  <b>__TITLE__</b> &nbsp; <span id="counts"></span> &nbsp;
  min score <input id="minscore" type="number" step="0.01" min="0" max="1" value="0">
  sort <select id="sort"><option value="desc">score, high first</option>
  <option value="asc">score, low first</option><option value="tic">TIC</option></select>
  <button id="export">Export decisions (CSV)</button>
  &nbsp; <kbd>a</kbd> accept <kbd>r</kbd> reject <kbd>u</kbd> unsure <kbd>j</kbd>/<kbd>k</kbd> move
</div>
<div id="list"></div>
<script>
const candidates = __DATA__;
const storageKey = "ebscan-vetting:" + __KEY__;
const decisions = JSON.parse(localStorage.getItem(storageKey) || "{}");
let shown = [], current = 0;

function save() { localStorage.setItem(storageKey, JSON.stringify(decisions)); }

const number = (value, digits) => value === "" || value === null || isNaN(value) ? null
  : Number(value).toFixed(digits);
function ephemeris(c) {
  if (number(c.period, 6) === null) {
    const times = c.eclipse_times ? ` at BTJD ${c.eclipse_times.split(";").join(", ")}` : "";
    return number(c.period_lower_bound, 2) === null ? "period ?"
      : `period &gt; ${number(c.period_lower_bound, 2)} d (eclipses${times})`;
  }
  const error = number(c.period_error, 6);
  const under = number(c.variability_period, 4);
  return `P = ${number(c.period, 6)}${error === null ? "" : " &plusmn; " + error} d,
          T0 = ${number(c.t0, 5)} BTJD, eclipses seen ${c.n_primary} + ${c.n_secondary}
          ${under === null ? "" : `(under a ${under} d signal)`}`;
}
function geometry(c) {
  if (number(c.primary_depth, 1) === null) return "";
  const secondary = number(c.secondary_phase, 3);
  return `depths ${number(c.primary_depth, 1)} / ${number(c.secondary_depth, 1)} ppt,
          widths ${number(c.primary_width, 3)} / ${number(c.secondary_width, 3) ?? "-"},
          secondary at phase ${secondary ?? "-"}, morphology ${number(c.morphology, 2)}`;
}
function centroid(c) {
  if (number(c.source_offset, 1) === null) return "";
  return `centroid: source ${number(c.source_offset, 1)}&quot; from target
          (${number(c.source_offset_sigma, 1)} sigma)${c.flag_blend == 1 ? " <b>BLEND</b>" : ""}`;
}
function flags(c) {
  const names = {flag_single_eclipse: "single eclipse", flag_odd_even: "odd/even differ",
                 flag_no_secondary: "no secondary", flag_equal_minima: "equal minima"};
  const set = Object.keys(names).filter(k => c[k] == 1).map(k => names[k]);
  return set.length ? "flags: " + set.join(", ") : "";
}
function matches(c) {
  const found = [];
  if (c.in_prsa2022 == 1) found.push(`Prsa 2022 P=${number(c.prsa2022_period, 6)}`);
  if (c.in_kepler_eb == 1) {
    found.push(`Kepler EB KIC ${c.kepler_eb_kic} P=${number(c.kepler_eb_period, 6)}`);
  }
  if (c.in_calnet2025_new == 1) found.push("CALNet new EB");
  return found.join("; ");
}

function render() {
  const min = parseFloat(document.getElementById("minscore").value) || 0;
  const order = document.getElementById("sort").value;
  shown = candidates.filter(c => c.max_score >= min);
  shown.sort((a, b) => order === "tic" ? a.tic - b.tic
    : order === "asc" ? a.max_score - b.max_score : b.max_score - a.max_score);
  current = Math.min(current, Math.max(shown.length - 1, 0));
  const list = document.getElementById("list");
  list.innerHTML = "";
  shown.forEach((c, i) => {
    const card = document.createElement("div");
    const decision = decisions[c.tic] || "";
    card.className = "card " + decision + (i === current ? " current" : "");
    card.id = "tic-" + c.tic;
    card.dataset.tic = c.tic;
    card.innerHTML = (c.plot ? `<img loading="lazy" src="${c.plot}" alt="TIC ${c.tic}">` : "") +
      `<div><div><b>TIC ${c.tic}</b> <span class="decision">${decision}</span>
            <a href="https://exofop.ipac.caltech.edu/tess/target.php?id=${c.tic}"
               target="_blank" rel="noopener">ExoFOP</a>
            <a href="https://mast.stsci.edu/portal/Mashup/Clients/Mast/Portal.html?searchQuery=TIC%20${c.tic}"
               target="_blank" rel="noopener">MAST</a></div>
       <div>score ${c.max_score.toFixed(3)} (mean ${c.mean_score.toFixed(3)})</div>
       <div>${ephemeris(c)}</div>
       <div>${geometry(c)}</div>
       <div>${centroid(c)}</div>
       <div>${flags(c)}</div>
       <div>sectors ${c.sectors} (above threshold: ${c.sectors_above})</div>
       <div>${c.status || ""} ${matches(c)}</div></div>`;
    card.addEventListener("click", () => { current = i; render(); });
    list.appendChild(card);
  });
  const done = candidates.filter(c => decisions[c.tic]).length;
  document.getElementById("counts").textContent =
    `${shown.length} shown, ${done}/${candidates.length} decided`;
  const node = document.getElementById("tic-" + (shown[current] || {}).tic);
  if (node) node.scrollIntoView({block: "nearest"});
}

document.addEventListener("keydown", event => {
  if (event.target.tagName === "INPUT" || event.target.tagName === "SELECT") return;
  const keys = {a: "accept", r: "reject", u: "unsure"};
  if (keys[event.key] && shown[current]) {
    decisions[shown[current].tic] = keys[event.key];
    save();
    current = Math.min(current + 1, shown.length - 1);
  } else if (event.key === "j" || event.key === "ArrowDown") {
    current = Math.min(current + 1, shown.length - 1);
  } else if (event.key === "k" || event.key === "ArrowUp") {
    current = Math.max(current - 1, 0);
  } else { return; }
  event.preventDefault();
  render();
});
document.getElementById("minscore").addEventListener("input", render);
document.getElementById("sort").addEventListener("change", render);
document.getElementById("export").addEventListener("click", () => {
  const lines = ["tic,decision"].concat(candidates.filter(c => decisions[c.tic])
    .map(c => `${c.tic},${decisions[c.tic]}`));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([lines.join("\\n") + "\\n"], {type: "text/csv"}));
  link.download = "vetting_decisions.csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
});
render();
</script></body></html>
"""

_FIELDS = (
    "tic",
    "max_score",
    "mean_score",
    "period",
    "period_error",
    "t0",
    "period_lower_bound",
    "eclipse_times",
    "variability_period",
    "n_primary",
    "n_secondary",
    "primary_depth",
    "secondary_depth",
    "primary_width",
    "secondary_width",
    "secondary_phase",
    "morphology",
    "source_offset",
    "source_offset_sigma",
    "flag_blend",
    "flag_single_eclipse",
    "flag_odd_even",
    "flag_no_secondary",
    "flag_equal_minima",
    "sectors",
    "sectors_above",
    "status",
    "in_prsa2022",
    "prsa2022_period",
    "in_kepler_eb",
    "kepler_eb_kic",
    "kepler_eb_period",
    "in_calnet2025_new",
    "plot",
)


def write_vetting_page(
    rows: list[dict], output: str | os.PathLike, title: str = "ebscan candidates"
) -> None:
    """Write the vetting page for candidate rows (plot paths relative to ``output``)."""
    data = []
    for row in rows:
        # NaN is not JSON: an unknown number is written as "".
        item = {
            k: "" if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in ((k, row.get(k, "")) for k in _FIELDS)
        }
        item = {k: "" if v is None else v for k, v in item.items()}
        item["tic"] = int(item["tic"])
        for key in ("max_score", "mean_score"):
            item[key] = float(item[key])
        data.append(item)
    page = (
        _PAGE.replace("__TITLE__", html.escape(title))
        .replace("__KEY__", json.dumps(os.path.abspath(os.fspath(output))))
        # "</" is escaped so no value can close the script element.
        .replace("__DATA__", json.dumps(data).replace("</", "<\\/"))
    )
    with atomic_open(output) as handle:
        handle.write(page)


def merge_decisions(
    candidates_csv: str | os.PathLike,
    decisions_csv: str | os.PathLike,
    output: str | os.PathLike,
    keep: tuple[str, ...] = ("accept",),
) -> dict:
    """Write the candidates whose decision is in ``keep``, with a ``decision`` column.

    Returns counts per decision (and ``undecided``). Raises ``ValueError`` for a
    decisions file with other columns or decisions, naming the file and the line.
    """
    with open(decisions_csv, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["tic", "decision"]:
            raise ValueError(
                f"{decisions_csv}: expected columns tic,decision, "
                f"found {','.join(reader.fieldnames or [])}"
            )
        decisions = {}
        for line, row in enumerate(reader, start=2):
            if row["decision"] not in DECISIONS or not row["tic"].isdigit():
                raise ValueError(f"{decisions_csv}:{line}: bad row {row}")
            decisions[int(row["tic"])] = row["decision"]
    with open(candidates_csv, newline="") as handle:
        reader = csv.DictReader(handle)
        if "tic" not in (reader.fieldnames or []):
            raise InputError(candidates_csv, "not a candidate catalog: no tic column")
        fields = [*reader.fieldnames, "decision"]
        rows = list(reader)
    counts = {d: 0 for d in (*DECISIONS, "undecided")}
    kept = []
    for row in rows:
        decision = decisions.get(int(row["tic"]), "undecided")
        counts[decision] += 1
        if decision in keep:
            kept.append({**row, "decision": decision})
    write_csv(output, kept, fields)
    return counts
