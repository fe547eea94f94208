"""Chat models: one protocol (`ChatModel`), its backends, spec strings, and installable small GGUF models.

Nothing here knows about SRE. Backends that need optional packages (transformers, llama-cpp-python)
import them only when a model is first used, so importing this package is cheap.
"""

from atlas_sre.models.base import Backend, ChatModel, Completion, ContextExceeded, Message, ModelError
from atlas_sre.models.catalog import CATALOG, CatalogEntry, catalog_entry
from atlas_sre.models.install import (
    ModelListing,
    install_model,
    installed_model_path,
    list_models,
    model_path,
    models_dir,
    verify_installed,
)
from atlas_sre.models.llamacpp_backend import LlamaCppChatModel, LlamaCppConfig
from atlas_sre.models.openai_http import OpenAIChatModel, OpenAIConfig
from atlas_sre.models.scripted import ScriptedCall, ScriptedConfig, ScriptedModel
from atlas_sre.models.spec import BACKENDS, load_model, parse_spec, valid_schemes
from atlas_sre.models.text import estimate_prompt_tokens, estimate_tokens
from atlas_sre.models.transformers_backend import TransformersChatModel, TransformersConfig

__all__ = [
    "BACKENDS",
    "Backend",
    "CATALOG",
    "CatalogEntry",
    "ChatModel",
    "Completion",
    "LlamaCppChatModel",
    "LlamaCppConfig",
    "Message",
    "ModelError",
    "ContextExceeded",
    "ModelListing",
    "OpenAIChatModel",
    "OpenAIConfig",
    "ScriptedCall",
    "ScriptedConfig",
    "ScriptedModel",
    "TransformersChatModel",
    "TransformersConfig",
    "catalog_entry",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "install_model",
    "installed_model_path",
    "list_models",
    "load_model",
    "model_path",
    "models_dir",
    "parse_spec",
    "valid_schemes",
    "verify_installed",
]
