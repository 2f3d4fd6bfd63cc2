"""junit.xml: one test case per threshold, so CI shows thresholds as tests.

Statuses map to JUnit as follows (documented in the README):

- PASS: a passing test case.
- FAIL: a `<failure>` whose message is the threshold's reason.
- WARN: a passing test case with the reason in `<system-out>`. A WARN does not
  fail the build (exit 0), and `<skipped>` would claim the threshold was not
  evaluated, which is false. With `--strict` a WARN fails the build, and it is
  then a `<failure>` here too, so the test report and the exit code agree.
- NO_DATA: `<skipped>` whose message starts "WARN:": the threshold really was
  not evaluated (no requests in its scope, or a figure the data cannot give),
  and it counts as WARN in the verdict (a threshold that matches nothing must
  not pass silently). With `--strict` it is a `<failure>` of type NO_DATA, like
  a WARN, so the test report and the exit code agree.

A run that did not complete keeps its test cases (judged on what was measured)
and says so at the suite level: a property `incomplete` = the reason (`master
lost`, `interrupted`, `unknown`), which CI tools show and scripts can read, and
the whole note in the suite's `<system-out>`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from analysis.summary import Summary
from scenarios.thresholds import COUNTS_AS, FAIL, NO_DATA, WARN


def render(summary: Summary, strict: bool) -> str:
    suite_name = f"careerload thresholds: {summary.run.get('scenario') or summary.run['source']}"
    classname = f"careerload.{summary.run.get('scenario') or 'locust'}"
    suite = ET.Element("testsuite", name=suite_name)
    if summary.incomplete:
        properties = ET.SubElement(suite, "properties")  # before the test cases, as the JUnit schema has it
        ET.SubElement(properties, "property", name="incomplete", value=summary.incomplete["reason"])
    failures = skipped = 0
    for result in summary.thresholds:
        name = result.get("label") or f"{result['metric']} {result['scope']}"  # the label names a time scope too
        case = ET.SubElement(suite, "testcase", classname=classname, name=name)
        status = result["status"]
        if status == FAIL or (strict and COUNTS_AS[status] == WARN):
            failures += 1
            failure = ET.SubElement(case, "failure", message=result["reason"], type=status)
            failure.text = result["reason"]
        elif status == WARN:
            ET.SubElement(case, "system-out").text = f"WARN: {result['reason']}"
        elif status == NO_DATA:
            skipped += 1
            ET.SubElement(case, "skipped", message=f"WARN: {result['reason']}")
    if summary.incomplete:
        ET.SubElement(suite, "system-out").text = summary.incomplete["note"]
    suite.set("tests", str(len(summary.thresholds)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element("testsuites", name="careerload", tests=suite.get("tests"), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(summary: Summary, strict: bool, path: Path) -> Path:
    path.write_text(render(summary, strict), encoding="utf-8")
    return path
