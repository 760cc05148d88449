// The vecpg console: plain JavaScript against the service's JSON API, no build step.
// Documents are untrusted: server text only ever goes into the page as text nodes, never as HTML.
"use strict";

(() => {
  const KEY_STORAGE = "vecpg.apiKey";
  const COLLECTION_STORAGE = "vecpg.collection";
  const SNIPPET_CHARS = 300;

  const $ = (id) => document.getElementById(id);
  let collections = [];

  /** An element with attributes and children; strings become text nodes. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  class ApiError extends Error {
    constructor(type, message, status) {
      super(message);
      this.type = type;
      this.status = status;
    }
  }

  function headers(json) {
    const result = { Accept: "application/json" };
    if (json) result["Content-Type"] = "application/json";
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (key) result.Authorization = `Bearer ${key}`;
    return result;
  }

  /** The API's error body ({"error": {"type", "message"}}), or the HTTP status when there is none. */
  async function errorOf(response) {
    try {
      const body = await response.json();
      if (body && body.error) {
        return new ApiError(String(body.error.type || "error"), String(body.error.message || ""), response.status);
      }
    } catch (_) {
      // not JSON: fall through to the status line
    }
    return new ApiError("http_error", `${response.status} ${response.statusText}`.trim(), response.status);
  }

  async function request(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError("network_error", `The server could not be reached (${err.message}).`);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  function collectionPath(suffix) {
    const name = $("collection").value;
    if (!name) throw new ApiError("no_collection", "Pick a collection first (none is listed: create one, or check the API key).");
    return `collections/${encodeURIComponent(name)}${suffix}`;
  }

  // -- alerts ---------------------------------------------------------------------------------
  function showError(err) {
    const alert = $("alert");
    const type = err instanceof ApiError ? err.type : "error";
    alert.replaceChildren(el("strong", {}, `${type}: `), String(err.message || err));
    alert.hidden = false;
  }

  function clearError() {
    $("alert").hidden = true;
    $("alert").replaceChildren();
  }

  async function busy(button, work) {
    button.disabled = true;
    try {
      clearError();
      await work();
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  }

  // -- collections ----------------------------------------------------------------------------
  async function loadCollections() {
    const select = $("collection");
    const body = await (await request("GET", "collections")).json();
    collections = body.collections || [];
    const wanted = select.value || sessionStorage.getItem(COLLECTION_STORAGE);
    select.replaceChildren(...collections.map((c) => el("option", { value: c.name }, c.name)));
    if (collections.some((c) => c.name === wanted)) select.value = wanted;
    showCollection();
  }

  function showCollection() {
    const info = $("collection-info");
    const current = collections.find((c) => c.name === $("collection").value);
    if (!current) {
      info.textContent = collections.length ? "" : "No collections yet.";
      return;
    }
    const parts = [`${current.dimension}-d`, current.distance, current.model || "no model"];
    info.textContent = parts.filter(Boolean).join(" · ");
    sessionStorage.setItem(COLLECTION_STORAGE, current.name);
  }

  // -- search ---------------------------------------------------------------------------------
  /** The filter textarea as an object (undefined when empty); a readable error when it is not JSON. */
  function readFilter() {
    const area = $("filter");
    const problem = $("filter-error");
    const text = area.value.trim();
    problem.hidden = true;
    problem.textContent = "";
    area.removeAttribute("aria-invalid");
    if (!text) return { ok: true, filter: undefined };
    let parsed;
    let message = null;
    try {
      parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        message = 'The filter must be a JSON object, such as {"topic": "sea"}.';
      }
    } catch (err) {
      message = `The filter is not valid JSON: ${err.message}`;
    }
    if (message) {
      problem.textContent = message;
      problem.hidden = false;
      area.setAttribute("aria-invalid", "true");
      area.focus();
      return { ok: false };
    }
    return { ok: true, filter: parsed };
  }

  const number = (value) => (typeof value === "number" ? (Number.isInteger(value) ? String(value) : value.toFixed(4)) : "—");

  function snippet(hit) {
    if (hit.highlight) return hit.highlight;
    const content = hit.content || "";
    return content.length > SNIPPET_CHARS ? `${content.slice(0, SNIPPET_CHARS)}…` : content;
  }

  /** "vector #1 · 0.8123": one list's rank and score, or null when the hit was not in it. */
  function listRank(label, rank, score, testid) {
    if (rank === null || rank === undefined) return null;
    return el("span", { class: "list-rank", "data-testid": testid, "data-rank": rank },
      `${label} #${rank} · ${number(score)}`);
  }

  function renderHit(hit, rank) {
    const ranks = [
      listRank("vector", hit.vector_rank, hit.vector_score, "vector-rank"),
      listRank("keyword", hit.keyword_rank, hit.keyword_score, "keyword-rank"),
      listRank("first stage", hit.first_rank, hit.first_score, "first-rank"),
    ].filter(Boolean);
    if (hit.rerank_score !== null && hit.rerank_score !== undefined) {
      ranks.push(el("span", { class: "list-rank", "data-testid": "rerank-score" }, `rerank · ${number(hit.rerank_score)}`));
    }
    return el("li", { class: "hit", "data-testid": "hit", "data-id": hit.id, "data-rank": rank },
      el("div", { class: "hit-head" },
        el("span", { class: "rank", "data-testid": "hit-rank" }, `${rank}.`),
        el("span", { class: "title", "data-testid": "hit-title" }, hit.title || "(untitled)"),
        el("code", { class: "id", "data-testid": "hit-id" }, hit.id),
        el("span", { class: "score", "data-testid": "hit-score" }, `score ${number(hit.score)}`)),
      ranks.length ? el("div", { class: "ranks" }, ...ranks) : null,
      el("p", { class: "snippet", "data-testid": "hit-snippet" }, snippet(hit)));
  }

  async function search() {
    const filter = readFilter();
    if (!filter.ok) return;
    const status = $("search-status");
    const body = {
      query: $("query").value,
      mode: $("mode").value,
      k: Number.parseInt($("k").value, 10) || 10,
    };
    if (filter.filter !== undefined) body.filter = filter.filter;
    status.textContent = "Searching…";
    const started = performance.now();
    try {
      const result = await (await request("POST", collectionPath("/search"), body)).json();
      const hits = result.results || [];
      $("results").replaceChildren(...hits.map((hit, i) => renderHit(hit, i + 1)));
      const ms = Math.round(performance.now() - started);
      status.textContent = `${hits.length} result${hits.length === 1 ? "" : "s"} (${body.mode}, ${ms} ms)`;
      status.dataset.count = String(hits.length);
    } catch (err) {
      status.textContent = "";
      throw err;
    }
  }

  // -- ask ------------------------------------------------------------------------------------
  function renderAnswer(answer) {
    $("answer").replaceChildren(el("p", { "data-testid": "answer-text" }, answer.answer || ""));
    const sources = answer.sources || [];
    const byNumber = new Map(sources.map((s) => [s.number, s]));
    const cited = (answer.cited || []).map((n) => byNumber.get(n)).filter(Boolean);
    $("sources").replaceChildren(...cited.map((s) =>
      el("li", { class: "source", "data-testid": "source", "data-number": s.number, "data-id": s.id },
        el("div", { class: "hit-head" },
          el("span", { class: "rank" }, `[${s.number}]`),
          el("span", { class: "title", "data-testid": "source-title" }, s.title || "(untitled)"),
          el("code", { class: "id", "data-testid": "source-id" }, s.id)),
        el("p", { class: "snippet", "data-testid": "source-passage" }, s.passage + (s.truncated ? " …" : "")))));
    const notes = [];
    if (!answer.found) notes.push("Nothing relevant was found, so no model was asked.");
    else notes.push(`Cites ${cited.length} of ${sources.length} source${sources.length === 1 ? "" : "s"}.`);
    if ((answer.unknown_citations || []).length) notes.push(`Cites sources that do not exist: ${answer.unknown_citations.join(", ")}.`);
    $("ask-status").textContent = notes.join(" ");
  }

  /** Server-sent events from a fetch body: calls onEvent(name, data) for each event. */
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const flush = (block) => {
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      blocks.forEach(flush);
    }
    if (buffer.trim()) flush(buffer);
  }

  async function ask() {
    const filter = readFilter();
    if (!filter.ok) return;
    const body = {
      question: $("question").value,
      k: Number.parseInt($("ask-k").value, 10) || 5,
      mode: $("mode").value,
      stream: true,
    };
    if (filter.filter !== undefined) body.filter = filter.filter;
    $("answer").replaceChildren();
    $("sources").replaceChildren();
    $("ask-status").textContent = "Asking…";
    const response = await request("POST", collectionPath("/ask"), body);
    if (!(response.headers.get("content-type") || "").includes("text/event-stream")) {
      renderAnswer(await response.json());
      return;
    }
    const text = el("p", { "data-testid": "answer-text" });
    $("answer").replaceChildren(text);
    let finished = false;
    await readEvents(response, (name, data) => {
      if (name === "token") text.append(data.text || "");
      else if (name === "answer") {
        finished = true;
        renderAnswer(data);
      } else if (name === "error") {
        finished = true;
        $("ask-status").textContent = "";
        showError(new ApiError(data.error ? data.error.type : "error", data.error ? data.error.message : "", 0));
      }
    });
    if (!finished) throw new ApiError("stream_error", "The answer stream ended before the answer was complete.");
  }

  // -- wiring ---------------------------------------------------------------------------------
  function start() {
    $("api-key").value = sessionStorage.getItem(KEY_STORAGE) || "";
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("api-key").value.trim();
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
      busy($("key-save"), loadCollections);
    });
    $("reload-collections").addEventListener("click", () => busy($("reload-collections"), loadCollections));
    $("collection").addEventListener("change", showCollection);
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      busy($("search-submit"), search);
    });
    $("ask-form").addEventListener("submit", (event) => {
      event.preventDefault();
      busy($("ask-submit"), async () => {
        try {
          await ask();
        } catch (err) {
          $("ask-status").textContent = "";
          throw err;
        }
      });
    });
    busy($("reload-collections"), loadCollections);
  }

  start();
})();
