#!/usr/bin/env python3
"""Compare the sample plugins with reference open-source tools.

Runs each plugin over the corpus (prose) or over source files already on this
machine (code), runs the matching reference tool on the same input, and prints
an agreement table:

  text-analyzer       textstat 0.7.4   word count within 3%, Flesch reading ease within 5
  summarizer          summa 1.2.0      share of the reference summary's sentences found
  keyword-extractor   yake 0.7.3       share of the reference top 10 found in the plugin's top 10
  syntax-highlighter  Pygments 2.21    share of non-whitespace characters with the same class

Usage (from the repository root, after `cargo run -p plugin-build`):

  python3 -m venv .venv && .venv/bin/pip install -r plugins/quality/requirements.txt
  .venv/bin/python plugins/quality/compare.py [--runner worker|native] [--only NAME ...]

`--runner worker` (the default) runs each plugin's component from
`target/plugins/` through the real sandbox worker with the `sandnotes-run`
CLI; `--runner native` calls the plugin crates' example programs instead,
which skips the sandbox (there is none for text-analyzer).
Exit status 1 means a figure is below the target in the table.

`--limits` runs every plugin through the worker on generated notes of
1,000,000 bytes (95% of the 1 MiB note limit) and fails if a run hits a
resource limit.
"""

import argparse
import glob
import html
import json
import os
import random
import re
import string
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
SAMPLES = Path(__file__).resolve().parent / "samples"
REGISTRY = Path.home() / ".cargo" / "registry" / "src"

# Files per language and the size above which a file is skipped, so that a
# run takes minutes, not hours.
MAX_FILES = 25
MAX_FILE_BYTES = 200_000


# --- running plugins ---------------------------------------------------------


# Attempts per run when the worker reports a missed wall-clock deadline.
DEADLINE_ATTEMPTS = 3

# The native runner of each plugin: its crate's example program.
NATIVE_EXAMPLES = {
    "summarizer": "summarize",
    "keyword-extractor": "extract_keywords",
    "syntax-highlighter": "highlight",
}


class Runner:
    """Runs one plugin on one note and returns its output value.

    Programs are built once with cargo and then started directly, because a
    `cargo run` per note waits on the build lock when others build too.
    """

    def __init__(self, kind):
        self.kind = kind
        self.built = set()
        # Largest fuel and peak memory per plugin, from worker reports.
        self.peaks = {}
        self.deadline_retries = 0

    def _build(self, args, binary):
        if binary not in self.built:
            subprocess.run(["cargo", "build", "-q", *args], cwd=REPO, check=True)
            self.built.add(binary)
        return binary

    def report(self, plugin, note_path, args):
        """Run through the worker and return the raw report, whatever the outcome."""
        binary = self._build(["-p", "sandbox-runner", "--bin", "sandnotes-run", "-p", "sandbox-worker"],
                             REPO / "target/debug/sandnotes-run")
        cmd = [str(binary), "--plugin", str(REPO / "target" / "plugins" / f"{plugin}.wasm"),
               "--note", str(note_path), "--args", json.dumps(args)]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{plugin} could not run on {note_path}: {done.stderr.strip()[-500:]}")
        return json.loads(done.stdout)

    def run(self, plugin, note_path, args):
        if self.kind == "native":
            example = NATIVE_EXAMPLES.get(plugin)
            if example is None:
                raise RuntimeError(f"{plugin} has no native runner; use --runner worker")
            binary = self._build(["-p", plugin, "--example", example], REPO / "target/debug/examples" / example)
            cmd = [str(binary), str(note_path), json.dumps(args)]
        else:
            binary = self._build(["-p", "sandbox-runner", "--bin", "sandnotes-run", "-p", "sandbox-worker"],
                                 REPO / "target/debug/sandnotes-run")
            cmd = [str(binary), "--plugin", str(REPO / "target" / "plugins" / f"{plugin}.wasm"),
                   "--note", str(note_path), "--args", json.dumps(args)]
        for attempt in range(DEADLINE_ATTEMPTS):
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{plugin} failed on {note_path}: {done.stderr.strip()[-500:]}")
            if self.kind == "worker" and '"outcome":"deadline_exceeded"' in done.stdout and attempt + 1 < DEADLINE_ATTEMPTS:
                # The 2 s wall-clock deadline includes compiling the component,
                # which a loaded 2-core machine can exceed before the plugin runs.
                self.deadline_retries += 1
                continue
            break
        return self._output(plugin, note_path, done.stdout)

    def _output(self, plugin, note_path, stdout):
        if self.kind == "native":
            text = stdout.rstrip("\n")
            return json.loads(text) if text.startswith("{") else text
        # sandnotes-run prints a report with an outcome, the output as
        # {"kind": ..., "value": ...}, and the run's resource figures.
        report = json.loads(stdout)
        if report.get("outcome") != "ok":
            raise RuntimeError(f"{plugin} on {note_path}: outcome {report.get('outcome')}: {stdout[:300]}")
        fuel, memory = self.peaks.get(plugin, (0, 0))
        self.peaks[plugin] = (max(fuel, report["fuel_used"]), max(memory, report["memory_peak_bytes"]))
        output = report["output"]
        value = output["value"]
        if output["kind"] == "json" and isinstance(value, str):
            return json.loads(value)
        return value


# --- prose -------------------------------------------------------------------


def corpus_texts():
    return sorted(p for p in CORPUS.glob("*.txt"))


def unwrap_paragraphs(text):
    """Join hard-wrapped lines, keeping one paragraph per line.

    summa's sentence pattern cannot cross a line break, so on hard-wrapped
    text it would treat each line as a sentence.
    """
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def words_of(text):
    return re.findall(r"[a-z0-9]+", text.lower())


def compare_text_analyzer(runner):
    import textstat

    rows = []
    for path in corpus_texts():
        text = path.read_text(encoding="utf-8")
        out = runner.run("text-analyzer", path, None)
        words = find_number(out, ("words", "word_count"))
        flesch = find_number(out, ("flesch_reading_ease",))
        ref_words = textstat.lexicon_count(text)
        ref_flesch = textstat.flesch_reading_ease(text)
        words_ok = words is not None and abs(words - ref_words) <= 0.03 * ref_words
        flesch_ok = flesch is not None and abs(flesch - ref_flesch) <= 5
        rows.append((path.name, words, ref_words, words_ok, flesch, ref_flesch, flesch_ok))
    print("\ntext-analyzer vs textstat 0.7.4")
    print(f"{'text':50} {'words':>7} {'ref':>7} {'ok':>3} {'flesch':>7} {'ref':>7} {'ok':>3}")
    for name, w, rw, wok, f, rf, fok in rows:
        print(f"{name:50} {fmt(w):>7} {rw:>7} {yes(wok):>3} {fmt(f):>7} {rf:>7.1f} {yes(fok):>3}")
    words_share = sum(r[3] for r in rows) / len(rows)
    flesch_share = sum(r[6] for r in rows) / len(rows)
    return [("text-analyzer", "texts with words within 3%", words_share, 0.9),
            ("text-analyzer", "texts with Flesch within 5", flesch_share, 0.9)]


def find_number(value, keys):
    """Find the first numeric value under one of `keys`, at any depth."""
    if isinstance(value, dict):
        for key in keys:
            if isinstance(value.get(key), (int, float)):
                return value[key]
        for inner in value.values():
            found = find_number(inner, keys)
            if found is not None:
                return found
    return None


def compare_summarizer(runner):
    from summa.summarizer import summarize

    rows = []
    for path in corpus_texts():
        text = path.read_text(encoding="utf-8")
        reference = summarize(unwrap_paragraphs(text), ratio=0.2, split=True)
        count = max(1, min(100, len(reference)))
        out = runner.run("summarizer", path, {"sentences": count})
        ours = out["sentences"]
        found = sum(1 for r in reference if any(same_sentence(r, s) for s in ours))
        share = found / len(reference) if reference else 1.0
        rows.append((path.name, len(reference), len(ours), share))
    print("\nsummarizer vs summa 1.2.0 (ratio 0.2; the plugin is asked for as many sentences)")
    print(f"{'text':50} {'ref':>4} {'ours':>4} {'shared':>7}")
    for name, r, o, share in rows:
        print(f"{name:50} {r:>4} {o:>4} {share:>7.0%}")
    mean = sum(r[3] for r in rows) / len(rows)
    return [("summarizer", "reference summary sentences shared (mean)", mean, 0.5)]


def same_sentence(reference, ours):
    """Match sentences whose word sequences are equal or one contains the other.

    The two tools split sentences differently (summa does not split after a
    closing quote, for example), so one sentence may span two of the other's.
    """
    a, b = " ".join(words_of(reference)), " ".join(words_of(ours))
    if not a or not b:
        return False
    return a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} "


def compare_keywords(runner):
    import yake

    extractor = yake.KeywordExtractor(lan="en", n=3, top=10)
    rows = []
    for path in corpus_texts():
        text = path.read_text(encoding="utf-8")
        reference = [k.lower() for k, _ in extractor.extract_keywords(text)]
        out = runner.run("keyword-extractor", path, {"max_keywords": 10})
        ours = [k["phrase"].lower() for k in out["keywords"]]
        share = len(set(reference) & set(ours)) / len(reference) if reference else 1.0
        rows.append((path.name, share, ours[:4]))
    print("\nkeyword-extractor vs yake 0.7.3 (top 10, n=3)")
    print(f"{'text':50} {'shared':>7}  first keywords")
    for name, share, first in rows:
        print(f"{name:50} {share:>7.0%}  {', '.join(first)}")
    mean = sum(r[1] for r in rows) / len(rows)
    return [("keyword-extractor", "reference top-10 keywords shared (mean)", mean, 0.5)]


# --- code --------------------------------------------------------------------


def code_samples():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    rustup_docs = glob.glob(str(Path.home() / ".rustup/toolchains/*/share/doc/rust/html/static.files/*.js"))
    sources = {
        "rust": sorted(glob.glob(str(REGISTRY / "*/serde_json-1*/src/**/*.rs"), recursive=True)),
        "python": sorted(glob.glob(str(stdlib / "json/*.py")) + glob.glob(str(stdlib / "email/*.py"))),
        "javascript": sorted(p for p in glob.glob(str(REGISTRY / "*/**/*.js"), recursive=True)
                             if "sidebar" not in p and ".min." not in p) + sorted(rustup_docs),
        "typescript": sorted(glob.glob(str(SAMPLES / "*.ts"))),
        "go": sorted(glob.glob("/usr/share/doc/git/contrib/**/*.go", recursive=True)),
        "c": sorted(glob.glob("/usr/include/*.h")),
        "java": sorted(glob.glob(str(SAMPLES / "*.java"))),
        "sql": sorted(glob.glob("/usr/share/postgresql/*/*.sql") +
                      glob.glob("/usr/share/postgresql/*/extension/*.sql")),
        "toml": sorted(glob.glob(str(REGISTRY / "*/*/Cargo.toml"))),
        "json": sorted(glob.glob(str(REGISTRY / "*/**/*.json"), recursive=True)),
    }
    picked = {}
    for language, paths in sources.items():
        usable = [p for p in paths if 0 < os.path.getsize(p) <= MAX_FILE_BYTES and is_utf8(p)]
        picked[language] = usable[:MAX_FILES]
    return picked


def is_utf8(path):
    try:
        Path(path).read_text(encoding="utf-8")
        return True
    except UnicodeDecodeError:
        return False


def pygments_class(token_type, text, language):
    """Map a Pygments token type to one of the plugin's eight classes.

    Documented in plugins/QUALITY.md. None means unclassified.
    """
    parts = str(token_type).split(".")[1:]  # "Token.Name.Function" -> ["Name", "Function"]
    head = parts[0] if parts else ""
    sub = parts[1] if len(parts) > 1 else ""
    if head == "Comment":
        if sub == "PreprocFile":
            return "string"
        if sub == "Preproc":
            return "keyword"
        return "comment"
    if head == "Keyword":
        return "type" if sub == "Type" else "keyword"
    if head == "Literal":
        if sub == "String":
            # Rust doc comments are String.Doc in Pygments but comments in syntax.
            if len(parts) > 2 and parts[2] == "Doc" and text.lstrip().startswith(("//", "/*")):
                return "comment"
            return "string"
        if sub == "Number":
            return "number"
        return "number"  # dates and other literals
    if head == "Operator":
        return "keyword" if sub == "Word" else "operator"
    if head == "Punctuation":
        return "punctuation"
    if head == "Name":
        if sub in ("Function", "Decorator"):
            return "function"
        if sub in ("Class", "Exception"):
            return "type"
        if sub == "Tag":  # JSON object keys
            return "string"
        if sub == "Builtin":
            if len(parts) > 2 and parts[2] == "Pseudo":  # self, this
                return "keyword"
            if language in ("sql", "rust") or text[:1].isupper():
                return "type"
            return "function"
    return None


def reference_classes(code, language):
    from pygments.lexers import get_lexer_by_name

    lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    classes = []
    for token_type, text in lexer.get_tokens(code):
        cls = pygments_class(token_type, text, language)
        classes.extend([cls] * len(text))
    return classes


SPAN = re.compile(r'<span class="([a-z]+)">(.*?)</span>|([^<]+)', re.S)


def plugin_classes(html_output):
    body = re.match(r'<pre><code class="language-[a-z]+">(.*)</code></pre>\s*$', html_output, re.S)
    if not body:
        raise ValueError("output is not one <pre><code> element")
    classes = []
    for m in SPAN.finditer(body.group(1)):
        if m.group(1):
            classes.extend([m.group(1)] * len(html.unescape(m.group(2))))
        else:
            classes.extend([None] * len(html.unescape(m.group(3))))
    return classes


def compare_highlighter(runner):
    figures = []
    print("\nsyntax-highlighter vs Pygments 2.21 (non-whitespace characters with the same class)")
    print(f"{'language':12} {'files':>5} {'chars':>9} {'agree':>7}")
    for language, paths in code_samples().items():
        agree = total = 0
        for path in paths:
            code = Path(path).read_text(encoding="utf-8")
            out = runner.run("syntax-highlighter", path, {"language": language})
            ours = plugin_classes(out)
            theirs = reference_classes(code, language)
            if len(ours) != len(code) or len(theirs) != len(code):
                raise RuntimeError(f"{path}: class lists do not cover the code "
                                   f"({len(ours)}, {len(theirs)}, {len(code)} characters)")
            for ch, a, b in zip(code, ours, theirs):
                if not ch.isspace():
                    total += 1
                    agree += a == b
        if not paths:
            print(f"{language:12} {0:>5} {'-':>9} {'no samples on this machine':>7}")
            continue
        share = agree / total if total else 1.0
        print(f"{language:12} {len(paths):>5} {total:>9} {share:>7.1%}")
        figures.append(("syntax-highlighter", f"{language} characters agreeing", share, 0.9))
    return figures


# --- limits ------------------------------------------------------------------

# Stress notes are 1,000,000 bytes: 95% of the 1 MiB note limit, leaving room
# for the highlighter's markup inside the 1 MiB output limit.
STRESS_NOTE_BYTES = 1_000_000

# text-analyzer's MAX_VOCABULARY_BYTES: the most bytes of distinct words it
# hyphenates in one run.
TEXT_ANALYZER_VOCABULARY_BYTES = 128 * 1024


def random_words(seed, alphabet, total_bytes, distinct=False):
    """Return seeded random words of 4 to 12 letters, joined by spaces.

    With `distinct`, no word repeats and `total_bytes` bounds the letters
    of the words; otherwise it bounds the joined text.
    """
    rng = random.Random(seed)
    words, seen, size = [], set(), 0
    while True:
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 12)))
        if distinct and word in seen:
            continue
        size += len(word) + (0 if distinct else 1)
        if size > total_bytes:
            return " ".join(words)
        seen.add(word)
        words.append(word)


def stress_notes(directory):
    """Write notes of STRESS_NOTE_BYTES that stress each plugin."""
    texts = [p.read_text(encoding="utf-8") for p in corpus_texts()]
    prose = "".join(texts * (STRESS_NOTE_BYTES // sum(len(t) for t in texts) + 1))
    rust = code_samples()["rust"]
    code = Path(rust[0]).read_text(encoding="utf-8") if rust else "fn main() { let x = (1, 2); }\n"
    words = " ".join(f"w{i % 997}x{i % 13}" for i in range(200_000)) + "."
    # Distinct words up to text-analyzer's vocabulary limit, then repeats
    # of them: the costliest note it still accepts. Letters from "aeioun"
    # match more hyphenation patterns than random letters do. The 12 bytes
    # left are for the word that the cut at STRESS_NOTE_BYTES shortens.
    vocabulary = random_words(2, "aeioun", TEXT_ANALYZER_VOCABULARY_BYTES - 12, distinct=True)
    notes = {
        "corpus-repeated.txt": prose,
        "one-long-line.txt": words,
        "short-sentences.txt": "".join(f"Common word{i % 300} and word{i % 71}. " for i in range(60_000)),
        "open-brackets.txt": "(" * STRESS_NOTE_BYTES,
        "rust-repeated.rs": code * (STRESS_NOTE_BYTES // len(code) + 1),
        "random-words.txt": random_words(1, string.ascii_lowercase, STRESS_NOTE_BYTES),
        "vocabulary-repeated.txt": (vocabulary + " ") * (STRESS_NOTE_BYTES // len(vocabulary) + 1),
    }
    paths = []
    for name, text in notes.items():
        data = text.encode("utf-8")[:STRESS_NOTE_BYTES].decode("utf-8", "ignore")
        path = Path(directory) / name
        path.write_text(data, encoding="utf-8")
        paths.append(path)
    return paths


def run_stress(runner):
    """Run every plugin on notes near the 1 MiB limit and report each outcome."""
    plugins = ["text-analyzer", "summarizer", "keyword-extractor", "syntax-highlighter"]
    print(f"\nplugins on notes of {STRESS_NOTE_BYTES:,} bytes (default limits, no arguments)")
    print(f"{'plugin':20} {'note':22} {'outcome':18} {'fuel':>14} {'memory':>10}")
    ok = True
    with tempfile.TemporaryDirectory() as directory:
        for plugin in plugins:
            for path in stress_notes(directory):
                report = runner.report(plugin, path, None)
                outcome = report.get("outcome")
                detail = report.get("message", "")[:40] if outcome == "plugin_error" else ""
                print(f"{plugin:20} {path.name:22} {outcome:18} {report.get('fuel_used', 0):>14,} "
                      f"{report.get('memory_peak_bytes', 0) / 2**20:>8.1f} MiB {detail}")
                # A plugin error is an answer (for example "too large to
                # highlight"); running out of a limit is not.
                ok &= outcome in ("ok", "plugin_error")
    return ok


# --- report ------------------------------------------------------------------


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def yes(flag):
    return "yes" if flag else "no"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runner", choices=["worker", "native"], default="worker",
                        help="run plugins through the sandbox worker (default) or natively")
    parser.add_argument("--only", nargs="*", default=None,
                        choices=["text-analyzer", "summarizer", "keyword-extractor", "syntax-highlighter"],
                        help="compare only these plugins")
    parser.add_argument("--limits", action="store_true",
                        help="instead of comparing, run every plugin through the worker on "
                             "1,000,000-byte notes and check that none hits a limit")
    options = parser.parse_args()
    runner = Runner(options.runner)
    if options.limits:
        return 0 if run_stress(Runner("worker")) else 1

    comparisons = {
        "text-analyzer": compare_text_analyzer,
        "summarizer": compare_summarizer,
        "keyword-extractor": compare_keywords,
        "syntax-highlighter": compare_highlighter,
    }
    figures = []
    for name, compare in comparisons.items():
        if options.only and name not in options.only:
            continue
        try:
            figures.extend(compare(runner))
        except RuntimeError as error:
            print(f"\n{name}: comparison failed: {error}")
            figures.append((name, "comparison ran", 0.0, 1.0))

    if runner.peaks:
        print("\nlargest fuel used and peak guest memory per plugin (worker reports)")
        for plugin, (fuel, memory) in sorted(runner.peaks.items()):
            print(f"{plugin:20} {fuel:>14,} fuel {memory / 2**20:>8.1f} MiB")

    if runner.deadline_retries:
        print(f"\nruns repeated after a missed wall-clock deadline: {runner.deadline_retries}")

    print(f"\nsummary (runner: {options.runner})")
    print(f"{'plugin':20} {'figure':45} {'value':>7} {'target':>7} {'met':>4}")
    failed = False
    for plugin, figure, value, target in figures:
        met = value >= target
        failed |= not met
        print(f"{plugin:20} {figure:45} {value:>7.1%} {target:>7.0%} {yes(met):>4}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
