"""Settings for ``bench/realtime_proxy.py`` only: the scripted provider and hot-path timing."""

import os

from interviewsite.settings import *  # noqa: F403
from interviewsite.settings import LOGGING

REALTIME_PROVIDER = "scripted"
REALTIME_PROVIDER_CLASSES = {"scripted": "bench._scripted_provider.ScriptedProvider"}
REALTIME_METRICS_FILE = os.environ["REALTIME_METRICS_FILE"]
LOGGING["loggers"]["realtime"] = {"level": "WARNING"}
LOGGING["loggers"]["media_export"] = {"level": "WARNING"}
