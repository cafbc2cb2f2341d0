"""Service configuration: layered by dynaconf, handed down as a frozen, typed object.

A service declares its settings as frozen dataclasses and loads them once, at start::

    @dataclass(frozen=True, kw_only=True, slots=True)
    class UserSettings:
        environment: Environment = "development"
        grpc: GrpcSettings
        database_url: Secret
        jwt_signing_key: Annotated[Secret, insecure_default("dev-signing-key")]

    load = SettingsLoader(UserSettings, service_dir=Path(__file__).parent, prefix="USER")
    settings = load()  # settings.toml, then USER_* variables (load_settings does the work)

Business code receives ``settings`` (or the part it needs) and never sees dynaconf.
"""

from servicekit.config.errors import ConfigError, ConfigProblem
from servicekit.config.loader import SETTINGS_FILE, SettingsLoader, load_settings
from servicekit.config.secret import Environment, InsecureDefault, Secret, insecure_default

__all__ = [
    "SETTINGS_FILE",
    "ConfigError",
    "ConfigProblem",
    "Environment",
    "InsecureDefault",
    "Secret",
    "SettingsLoader",
    "insecure_default",
    "load_settings",
]
