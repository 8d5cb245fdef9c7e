"""``%qrt`` line magic and ``%%qrt run`` cell magic.

Each subcommand has its own argparse parser, so ``%qrt help`` and ``%qrt?``
show generated usage; mistakes raise ``UsageError`` with one clear line that
names the nearest valid subcommand or flag, never a traceback into this file.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import shlex
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import HTML, display

from ..runtime import Batch, LocalRuntimeService, Session
from ..runtime.backends import CATALOGUE, backend_method, is_noisy
from ..runtime.core.current import (
    current_mode,
    default_mode,
    default_options,
    set_default_mode,
    set_default_options,
)
from ..runtime.core.display import job_html, mode_html, status_badge
from ..runtime.core.durations import format_duration
from ..runtime.core.errors import QRTError, did_you_mean
from ..runtime.primitives.options import EstimatorOptions, SamplerOptions
from .frontend import display_mode, set_display_mode, widgets_live


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (with a suggestion) instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        flags = [s for a in self._actions for s in a.option_strings]
        hint = ""
        for word in message.replace(",", " ").split():
            if word.startswith("-") and word not in flags:
                hint = did_you_mean(word, flags)
                break
        raise UsageError(f"%qrt {self.prog.split()[-1]}: {message}.{hint}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            raise UsageError(message.strip())
        raise _HelpShown()


class _HelpShown(Exception):
    """``-h`` was given: the help was printed, nothing else to do."""


def _parsers() -> dict[str, _Parser]:
    def make(name: str, help_text: str) -> _Parser:
        return _Parser(prog=f"%qrt {name}", description=help_text, add_help=True)

    p: dict[str, _Parser] = {}
    p["backends"] = make("backends", "Table of the backend catalogue.")
    s = p["session"] = make(
        "session", "Open, show, close or cancel the notebook's current Session (or Batch).")
    s.add_argument("action", nargs="?", choices=["open", "close", "cancel", "show"],
                   default="show")
    s.add_argument("--backend", default="aer_simulator", help="catalogue name")
    s.add_argument("--max-time", default=None, help="e.g. 900, '15m' or '1h30m'")
    s.add_argument("--ttl", default=None, help="idle time before the session expires")
    s.add_argument("--batch", action="store_true", help="open a Batch instead of a Session")
    j = p["jobs"] = make("jobs", "Live table of jobs.")
    j.add_argument("--limit", type=int, default=20)
    j.add_argument("--session", default=None, help="'current' or a session id")
    j.add_argument("--status", default=None, help="QUEUED, RUNNING, DONE, ERROR or CANCELLED")
    p["job"] = make("job", "One job: status, metrics, options, interim results, logs, result.")
    p["job"].add_argument("job_id")
    p["cancel"] = make("cancel", "Cancel a job.")
    p["cancel"].add_argument("job_id")
    o = p["options"] = make(
        "options", "Show or set notebook-wide default options (key=value, dotted names); "
        "display=widget|static|auto chooses live widgets or static figures.")
    o.add_argument("assignments", nargs="*")
    o.add_argument("--reset", action="store_true", help="forget all defaults")
    pl = p["plot"] = make("plot", "Live convergence plot bound to a job's interim results.")
    pl.add_argument("job_ids", nargs="+")
    pl.add_argument("--key", default="energy")
    pl.add_argument("--exact", type=float, default=None)
    pl.add_argument("--log", action="store_true", help="plot |value - exact| on a log scale")
    p["version"] = make("version", "Versions of qiskit, qiskit-aer, this package, Python, OS.")
    p["help"] = make("help", "This help.")
    r = p["run"] = make(
        "run", "(cell magic) Run the cell body as a program in the current session, in the "
        "background. The body sees `ctx`; assign `result` to set the job's result.")
    r.add_argument("--plot", default=None, metavar="KEY", help="live plot of this interim key")
    r.add_argument("--name", default="job", metavar="VAR", help="variable to bind the job to")
    r.add_argument("--exact", type=float, default=None)
    return p


PARSERS = _parsers()


def _help_text() -> str:
    parts = ["%qrt SUBCOMMAND [options]   |   %%qrt run [--plot KEY] [--name VAR]", ""]
    for parser in PARSERS.values():
        parts.append(parser.format_usage().replace("usage: ", "").strip())
        parts.append(textwrap.indent(textwrap.fill(parser.description or "", 76), "    "))
    return "\n".join(parts)


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _check_option(key: str, value: Any) -> None:
    """Valid for the Estimator or the Sampler; raises the nearest-name error otherwise."""
    errors = []
    for cls in (EstimatorOptions, SamplerOptions):
        try:
            cls().update(**{key: value})
            return
        except QRTError as exc:
            errors.append(exc)
    raise errors[0]


@magics_class
class QRTMagics(Magics):
    """The ``%qrt`` magics; see ``%qrt help``."""

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self.plots: dict[str, Any] = {}

    @property
    def service(self) -> LocalRuntimeService:
        mode = current_mode()
        if isinstance(mode, Session):
            return mode.service
        return LocalRuntimeService.default()

    @line_cell_magic
    def qrt(self, line: str, cell: str | None = None) -> Any:
        try:
            # option values are Python literals: keep their quotes
            posix = not line.lstrip().startswith("options")
            words = shlex.split(line, posix=posix)
        except ValueError as exc:
            raise UsageError(f"%qrt: {exc}") from None
        if not words:
            words = ["help"]
        command, rest = words[0], words[1:]
        if cell is not None and command != "run":
            raise UsageError("%%qrt as a cell magic takes `run`: %%qrt run [--plot KEY].")
        if command == "run" and cell is None:
            raise UsageError("`run` is a cell magic: start the cell with %%qrt run.")
        handler: Callable[..., Any] | None = getattr(self, f"_cmd_{command}", None)
        if handler is None or command not in PARSERS:
            raise UsageError(
                f"%qrt: unknown subcommand '{command}'.{did_you_mean(command, PARSERS)} "
                f"Subcommands: {', '.join(PARSERS)}."
            )
        try:
            args = PARSERS[command].parse_args(rest)
        except _HelpShown:
            return None
        try:
            return handler(args, cell) if command == "run" else handler(args)
        except QRTError as exc:
            raise UsageError(f"%qrt {command}: {exc}") from None

    qrt.__doc__ = _help_text()

    # -- subcommands ---------------------------------------------------------
    def _cmd_help(self, args: argparse.Namespace) -> None:
        print(_help_text())

    def _cmd_backends(self, args: argparse.Namespace) -> None:
        rows = []
        for name, spec in CATALOGUE.items():
            backend = self.service.backend(name)
            rows.append((name, backend.num_qubits, backend_method(backend),
                         "noisy" if is_noisy(backend) else "ideal", spec.description))
        _table(["name", "qubits", "method", "noise", "description"], rows)

    def _cmd_session(self, args: argparse.Namespace) -> Any:
        mode = default_mode()
        if args.action == "open":
            cls = Batch if args.batch else Session
            kwargs: dict[str, Any] = {"max_time": args.max_time}
            if args.ttl is not None:
                kwargs["ttl"] = args.ttl
            mode = cls(backend=args.backend, service=self.service, **kwargs)
            set_default_mode(mode)
            self.shell.user_ns["session"] = mode
        elif mode is None:
            raise UsageError("%qrt session: no session is open; %qrt session open first.")
        elif args.action == "close":
            mode.close()
        elif args.action == "cancel":
            mode.cancel()
        return self._show_session(mode)

    def _show_session(self, mode: Any) -> Any:
        if widgets_live():
            from .widgets import SessionPanel

            panel = SessionPanel(mode.service, session=mode)
            display(panel)
            return None
        display(HTML(mode_html(mode)))
        return None

    def _cmd_jobs(self, args: argparse.Namespace) -> None:
        session_id = args.session
        if session_id == "current":
            mode = default_mode()
            if mode is None:
                raise UsageError("%qrt jobs --session current: no session is open.")
            session_id = mode.session_id
        if widgets_live():
            from .widgets import JobMonitor

            display(JobMonitor(self.service, limit=args.limit, session_id=session_id,
                               status=args.status))
            return
        jobs = self.service.jobs(limit=args.limit, session_id=session_id, status=args.status)
        rows = []
        for job in jobs:
            duration = (format_duration(job.duration) if job.finished is not None
                        else "-")
            rows.append((job.job_id(), job.primitive_id, job.status(),
                         job.creation_date.astimezone().strftime("%H:%M:%S"), duration,
                         job.session_id or "-"))
        _table(["job", "program / primitive", "status", "created", "duration", "session"], rows)

    def _cmd_job(self, args: argparse.Namespace) -> None:
        job = self.service.job(args.job_id)
        display(HTML(job_html(job)))
        metrics = job.metrics()
        interim = job.interim_results()
        print(f"status {job.status()}  usage {metrics.get('usage', {}).get('seconds', 0):.3f} s  "
              f"transpile cache {metrics.get('transpile_cache', {})}")
        applied = metrics.get("options_applied") or job.options
        print(f"options applied: {applied or 'defaults'}")
        if metrics.get("options_not_applied"):
            print(f"options NOT applied: {metrics['options_not_applied']}")
        print(f"interim results: {len(interim)}" + (f", last: {interim[-1]!r}"[:300]
                                                    if interim else ""))
        logs = job.logs()
        if logs:
            print("logs:\n" + textwrap.indent(logs[-3000:], "  "))

    def _cmd_cancel(self, args: argparse.Namespace) -> None:
        job = self.service.job(args.job_id)
        if job.cancel():
            print(f"cancel requested for {args.job_id}")
        else:
            print(f"{args.job_id} had already ended: {job.status()}")

    def _cmd_options(self, args: argparse.Namespace) -> None:
        if args.reset:
            set_default_options({})
            set_display_mode(None)
        current = default_options()
        for item in args.assignments:
            if "=" not in item:
                raise UsageError(f"%qrt options: '{item}' is not key=value.")
            key, text = item.split("=", 1)
            value = _parse_value(text)
            if key == "display":
                set_display_mode(None if value == "auto" else str(value))
                continue
            _check_option(key, value)
            current[key] = value
        set_default_options(current)
        rows = [(k, repr(v)) for k, v in default_options().items()]
        rows.append(("display", display_mode()))
        _table(["option", "value"], rows)

    def _cmd_plot(self, args: argparse.Namespace) -> Any:
        from .widgets import ConvergencePlot

        plot = ConvergencePlot(args.key, exact=args.exact, log_error=args.log)
        for job_id in args.job_ids:
            plot.attach(self.service.job(job_id))
        self.plots[",".join(args.job_ids)] = plot
        return plot

    def _cmd_version(self, args: argparse.Namespace) -> None:
        import qiskit
        import qiskit_aer

        from ..version import __version__

        try:
            import psutil

            memory = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
        except ImportError:
            memory = "?"
        _table(["software", "version"], [
            ("qrt_jupyter", __version__), ("qiskit", qiskit.__version__),
            ("qiskit-aer", qiskit_aer.__version__), ("Python", sys.version.split()[0]),
            ("OS", f"{platform.system()} {platform.release()}"),
            ("CPUs", str(os.cpu_count())), ("memory", memory),
            ("store", str(self.service.store.path)), ("display", display_mode()),
        ])

    def _cmd_run(self, args: argparse.Namespace, cell: str) -> Any:
        if not args.name.isidentifier():
            raise UsageError(f"%%qrt run --name: '{args.name}' is not a Python name.")
        try:
            code = compile(cell, "<%%qrt run>", "exec")
        except SyntaxError as exc:
            raise UsageError(f"%%qrt run: syntax error in the cell, line {exc.lineno}: "
                             f"{exc.msg}") from None
        namespace = self.shell.user_ns

        def cell_program(ctx: Any) -> Any:
            scope = dict(namespace)
            scope["ctx"] = ctx
            exec(code, scope)  # noqa: S102 - the user's own cell
            return scope.get("result")

        mode = current_mode()
        service = mode.service if isinstance(mode, Session) else self.service
        plot = None
        if args.plot:
            from .widgets import ConvergencePlot

            plot = ConvergencePlot(args.plot, exact=args.exact)
        job = service.run(cell_program, mode=mode,
                          callback=plot.callback("cell") if plot is not None else None)
        namespace[args.name] = job
        if plot is not None:
            namespace[f"{args.name}_plot"] = plot
        if widgets_live():
            from .widgets import JobStatus

            display(JobStatus(job))
            if plot is not None:
                display(plot)
        else:
            print(f"{args.name} = job {job.job_id()} ({job.status()}) in "
                  f"{job.session_id or 'job mode'}"
                  + (f"; {args.name}_plot.show() draws its plot" if plot is not None else ""))
        return None


def _table(header: list[str], rows: list[tuple]) -> None:
    """HTML table in a notebook, aligned text elsewhere (both in one display bundle)."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else \
        [len(h) for h in header]
    text = "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in [header, *rows]
    )
    cells = "".join(
        "<tr>" + "".join(
            f"<td style='text-align:left'>{_cell_html(h, c)}</td>" for h, c in zip(header, row)
        ) + "</tr>" for row in rows
    )
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in header)
    display({"text/plain": text, "text/html": f"<table><tr>{head}</tr>{cells}</table>"},
            raw=True)


def _cell_html(header: str, value: Any) -> str:
    import html

    if header == "status":
        return status_badge(str(value))
    return html.escape(str(value))


def load_ipython_extension(ipython: Any) -> None:
    ipython.register_magics(QRTMagics)
    _register_formatters(ipython)


def _register_formatters(ipython: Any) -> None:
    """In a widget frontend, jobs display as a live status line."""
    from ..runtime.execution.job import RuntimeJob

    def show_job(job: RuntimeJob) -> None:
        # IPython shows nothing else once this printer ran, so it shows the static
        # view itself where no widget frontend is known
        if not widgets_live():
            display({"text/html": job_html(job), "text/plain": repr(job)}, raw=True)
            return
        from .widgets import JobStatus

        display(JobStatus(job))

    formatter = ipython.display_formatter.ipython_display_formatter
    formatter.for_type(RuntimeJob, show_job)
