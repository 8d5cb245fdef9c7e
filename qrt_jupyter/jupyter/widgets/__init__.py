"""ipywidgets for sessions, jobs and convergence plots."""

from .convergence import ConvergencePlot
from .job_monitor import JobMonitor
from .job_status import JobStatus
from .session_panel import SessionPanel

__all__ = ["ConvergencePlot", "JobMonitor", "JobStatus", "SessionPanel"]
