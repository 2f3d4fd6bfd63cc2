"""`careerload import k6 SCRIPT.js [-o DIR]`: a k6 script as a careerload scenario and declarative persona.

Writes DIR/<name>.toml (the scenario: shape, `[k6.thresholds]`, `persona_file`)
and DIR/<name>.persona.toml (DeclarativeUser's requests, checks, think time and
weights), <name> being the script's file name without .js. Everything the
script does that careerload cannot play is listed on stderr with its line
number, and as comments in both files. Exit 0 when the scenario was written
(with or without such notes), 2 when the script is not JavaScript or makes no
scenario. The translation is in scenarios/k6/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from foundation.errors import UsageError

HELP = "translate a k6 script into a scenario file plus a declarative persona"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import", help=HELP, description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    tools = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)
    k6 = tools.add_parser("k6", help="a k6 script (JavaScript)", description=__doc__,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    k6.add_argument("script", metavar="SCRIPT.js", type=Path, help="the k6 script")
    k6.add_argument("-o", "--out", metavar="DIR", type=Path, default=Path("."),
                    help="where to write <name>.toml and <name>.persona.toml; default the current directory")
    k6.set_defaults(func=run_k6)


def run_k6(args: argparse.Namespace) -> int:
    try:
        from scenarios.k6.syntax import ParseError
        from scenarios.k6.translate import ScriptError, translate
    except ImportError as exc:
        raise UsageError(f"careerload import k6 needs tree-sitter and tree-sitter-javascript "
                         f"(pip install 'careerload[k6import]'): {exc}") from exc
    from scenarios.thresholds import ScenarioError

    script: Path = args.script
    try:
        source = script.read_bytes()
    except OSError as exc:
        raise UsageError(f"{script}: cannot read the script: {exc.strerror or exc}") from exc
    name = script.name.removesuffix(".js")
    try:
        result = translate(source, script.name, name)
    except (ParseError, ScriptError, ScenarioError) as exc:
        raise UsageError(f"{script}: {exc}") from exc
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        scenario_path = out / f"{name}.toml"
        scenario_path.write_text(result.scenario, encoding="utf-8")
        (out / f"{name}.persona.toml").write_text(result.persona, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or out}: {exc.strerror or exc}") from exc
    for note in result.notes:
        print(f"{script}:{note.line}: {note.what}", file=sys.stderr)
    print(f"wrote {scenario_path} and {out / f'{name}.persona.toml'} ({len(result.notes)} note(s)); "
          f"play it with: careerload run {scenario_path} --host URL")
    return 0
