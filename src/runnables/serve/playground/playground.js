// The playground of one served runnable: a form built from its input and config schemas,
// a run over /stream_log or /stream_events, and the output shown as it streams.
// Every string from the server is shown with textContent, never parsed as HTML.
"use strict";

const MESSAGE_ROLES = ["human", "ai", "system"];

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ---------------------------------------------------------------- schema to form

function resolve(schema, defs) {
  let seen = 0;
  while (schema && schema.$ref && seen++ < 32) {
    const name = schema.$ref.split("/").pop();
    const { $ref, ...rest } = schema;
    schema = { ...(defs[name] || {}), ...rest };
  }
  return schema || {};
}

function isMessage(schema, defs) {
  const resolved = resolve(schema, defs);
  if (/Message$/.test(resolved.title || "")) return true;
  const options = resolved.anyOf || resolved.oneOf;
  return Boolean(options && options.some((option) => /Message$/.test(resolve(option, defs).title || "")));
}

function label(text, control) {
  return el("label", { class: "field" }, el("span", { text }), control);
}

// Each builder returns { node, read }; read() gives the value, or undefined for "not set".
function build(schema, defs, name, optional) {
  const resolved = resolve(schema, defs);
  const title = name || resolved.title || "value";
  if (resolved.enum) return enumField(resolved, title, optional);
  if (resolved.const !== undefined) return { node: el("span"), read: () => resolved.const };
  const options = resolved.anyOf || resolved.oneOf;
  if (options) return choiceField(options, defs, title, optional);
  switch (resolved.type) {
    case "string":
      return textField(resolved, title, optional);
    case "integer":
    case "number":
      return numberField(resolved, title);
    case "boolean":
      return booleanField(resolved, title, optional);
    case "array":
      if (resolved.items && isMessage(resolved.items, defs)) return messagesField(title, optional);
      if (resolved.items && !resolved.prefixItems) return arrayField(resolved, defs, title, optional);
      return jsonField(resolved, title, optional);
    case "object":
      if (resolved.properties) return objectField(resolved, defs, title, optional);
      return jsonField(resolved, title, optional);
    case "null":
      return { node: el("span", { class: "note", text: "null" }), read: () => null };
    default:
      return jsonField(resolved, title, optional);
  }
}

function textField(schema, title, optional) {
  const long = /text|content|question|prompt|message/i.test(title);
  const input = long ? el("textarea") : el("input", { type: "text" });
  input.name = title;
  if (typeof schema.default === "string") input.value = schema.default;
  return {
    node: label(title, input),
    read: () => (optional && input.value === "" ? undefined : input.value),
  };
}

function numberField(schema, title) {
  const input = el("input", { type: "number", step: schema.type === "integer" ? "1" : "any" });
  input.name = title;
  if (typeof schema.default === "number") input.value = String(schema.default);
  return {
    node: label(title, input),
    read: () => (input.value === "" ? undefined : Number(input.value)),
  };
}

function booleanField(schema, title, optional) {
  if (optional) {
    const select = el("select", {}, el("option", { value: "", text: "(not set)" }),
      el("option", { value: "true", text: "true" }), el("option", { value: "false", text: "false" }));
    select.name = title;
    return { node: label(title, select), read: () => (select.value === "" ? undefined : select.value === "true") };
  }
  const box = el("input", { type: "checkbox" });
  box.name = title;
  box.checked = schema.default === true;
  return { node: label(title, box), read: () => box.checked };
}

function enumField(schema, title, optional) {
  const select = el("select");
  select.name = title;
  if (optional) select.append(el("option", { value: "", text: "(not set)" }));
  schema.enum.forEach((value, index) => {
    select.append(el("option", { value: String(index), text: JSON.stringify(value) }));
  });
  return {
    node: label(title, select),
    read: () => (select.value === "" ? undefined : schema.enum[Number(select.value)]),
  };
}

function choiceField(options, defs, title, optional) {
  const select = el("select");
  select.name = `${title} (kind)`;
  const slot = el("div");
  let current = null;
  const names = options.map((option) => {
    const resolved = resolve(option, defs);
    return resolved.title || resolved.type || "value";
  });
  names.forEach((name, index) => select.append(el("option", { value: String(index), text: name })));
  const nonNull = options.findIndex((option) => resolve(option, defs).type !== "null");
  select.value = String(Math.max(nonNull, 0));
  const show = () => {
    current = build(options[Number(select.value)], defs, title, optional);
    slot.replaceChildren(current.node);
  };
  select.addEventListener("change", show);
  show();
  return {
    node: el("div", { class: "choice" }, label(`${title}: kind`, select), slot),
    read: () => current.read(),
  };
}

function listField(title, optional, makeItem) {
  const items = [];
  const list = el("div");
  const add = el("button", { type: "button", text: `Add to ${title}` });
  const append = () => {
    const item = makeItem();
    const remove = el("button", { type: "button", text: "Remove" });
    const row = el("div", { class: "item" }, item.node, remove);
    const entry = { item, row };
    remove.addEventListener("click", () => {
      items.splice(items.indexOf(entry), 1);
      row.remove();
    });
    items.push(entry);
    list.append(row);
  };
  add.addEventListener("click", append);
  return {
    node: el("fieldset", { name: title }, el("legend", { text: title }), list, add),
    read: () => {
      const values = items.map((entry) => entry.item.read()).filter((value) => value !== undefined);
      return optional && values.length === 0 ? undefined : values;
    },
    append,
  };
}

function arrayField(schema, defs, title, optional) {
  return listField(title, optional, () => build(schema.items, defs, `${title} item`, false));
}

function messagesField(title, optional) {
  const field = listField(title, optional, () => {
    const role = el("select");
    role.name = `${title} role`;
    for (const kind of MESSAGE_ROLES) role.append(el("option", { value: kind, text: kind }));
    const content = el("textarea");
    content.name = `${title} content`;
    return {
      node: el("div", {}, label("role", role), label("content", content)),
      read: () => ({ type: role.value, content: content.value }),
    };
  });
  field.append();
  return field;
}

function objectField(schema, defs, title, optional) {
  const required = new Set(schema.required || []);
  const fields = Object.entries(schema.properties).map(([key, property]) => [
    key,
    build(property, defs, key, optional || !required.has(key)),
  ]);
  return {
    node: el("fieldset", { name: title }, el("legend", { text: title }), ...fields.map(([, field]) => field.node)),
    read: () => {
      const value = {};
      for (const [key, field] of fields) {
        const item = field.read();
        if (item !== undefined) value[key] = item;
      }
      return optional && Object.keys(value).length === 0 ? undefined : value;
    },
  };
}

function jsonField(schema, title, optional) {
  const input = el("textarea", { placeholder: "JSON" });
  input.name = title;
  if (schema.default !== undefined) input.value = JSON.stringify(schema.default);
  return {
    node: label(`${title} (JSON)`, input),
    read: () => {
      if (input.value.trim() === "") return optional ? undefined : null;
      try {
        return JSON.parse(input.value);
      } catch (error) {
        throw new Error(`${title}: not JSON (${error.message})`);
      }
    },
  };
}

// ---------------------------------------------------------------- the run log

function pointer(path) {
  return path === "" ? [] : path.slice(1).split("/").map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function applyOp(state, op) {
  const parts = pointer(op.path);
  if (parts.length === 0) return op.op === "remove" ? null : structuredClone(op.value);
  let parent = state;
  for (const part of parts.slice(0, -1)) parent = parent[part];
  const last = parts[parts.length - 1];
  const value = op.value === undefined ? undefined : structuredClone(op.value);
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (op.op === "add") parent.splice(index, 0, value);
    else if (op.op === "replace") parent[index] = value;
    else if (op.op === "remove") parent.splice(index, 1);
  } else if (op.op === "remove") {
    delete parent[last];
  } else if (op.op === "add" || op.op === "replace") {
    parent[last] = value;
  }
  return state;
}

function textOf(chunk) {
  if (typeof chunk === "string") return chunk;
  if (chunk && typeof chunk.content === "string") return chunk.content;
  return JSON.stringify(chunk);
}

function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

// ---------------------------------------------------------------- Server-Sent Events

async function* serverEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\n|\r/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (data.length || event !== "message") yield { event, data: data.join("\n") };
        event = "message";
        data = [];
      } else if (line.startsWith("event:")) {
        event = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }
}

// ---------------------------------------------------------------- the page

const page = {
  input: null,
  config: null,
  abort: null,
  output: document.getElementById("output"),
  steps: document.getElementById("steps"),
  status: document.getElementById("status"),
};

function setStatus(text, isError) {
  page.status.textContent = text;
  page.status.className = isError ? "error" : "note";
}

function showLog(state) {
  const streamed = state.streamed_output || [];
  page.output.textContent =
    state.final_output !== undefined && state.final_output !== null && streamed.length === 0
      ? pretty(state.final_output)
      : streamed.map(textOf).join("");
  const entries = Object.values(state.logs || {});
  page.steps.replaceChildren(
    ...entries.map((entry) => {
      const done = entry.end_time ? "done" : "running";
      const item = el("li", {}, el("strong", { text: entry.name }), ` (${entry.type}, ${done})`);
      if (entry.final_output !== undefined && entry.final_output !== null) {
        item.append(el("pre", { text: pretty(entry.final_output) }));
      }
      return item;
    }),
  );
}

function showEvent(event) {
  if (event.event.endsWith("_stream") && event.parent_ids && event.parent_ids.length === 0) {
    page.output.textContent += textOf(event.data.chunk);
  } else if (event.event.endsWith("_end") && event.parent_ids && event.parent_ids.length === 0) {
    if (page.output.textContent === "") page.output.textContent = pretty(event.data.output);
  }
  const detail = event.event.endsWith("_end") ? pretty(event.data.output) : null;
  const item = el("li", {}, el("strong", { text: event.name }), ` ${event.event}`);
  if (detail !== null && detail !== undefined) item.append(el("pre", { text: detail }));
  page.steps.append(item);
}

async function run(endpoint) {
  const body = { input: page.input.read() };
  const config = page.config ? page.config.read() : undefined;
  if (config !== undefined) body.config = config;
  page.abort = new AbortController();
  page.output.textContent = "";
  page.steps.replaceChildren();
  setStatus("running…");
  const response = await fetch(`../${endpoint}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: page.abort.signal,
  });
  if (!response.ok) {
    const answer = await response.text();
    let detail = answer;
    try {
      detail = pretty(JSON.parse(answer).detail);
    } catch (error) {
      // not JSON: show the text as it came
    }
    throw new Error(`the server answered ${response.status}: ${detail}`);
  }
  let state = null;
  for await (const sent of serverEvents(response)) {
    if (sent.event === "error") throw new Error(JSON.parse(sent.data).message);
    if (sent.event === "end") break;
    if (sent.event !== "data") continue;
    const data = JSON.parse(sent.data);
    if (endpoint === "stream_log") {
      for (const op of data.ops) state = applyOp(state, op);
      showLog(state);
    } else {
      showEvent(data);
    }
  }
  setStatus("done");
}

async function load(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return response.json();
}

async function start() {
  const form = document.getElementById("run-form");
  const runButton = document.getElementById("run");
  const stopButton = document.getElementById("stop");
  try {
    const [inputSchema, configSchema] = await Promise.all([load("../input_schema"), load("../config_schema")]);
    const name = (inputSchema.title || "").replace(/Input$/, "");
    if (name) document.getElementById("title").textContent = `${name} playground`;
    page.input = build(inputSchema, inputSchema.$defs || inputSchema.definitions || {}, "input", false);
    document.getElementById("input-fields").replaceChildren(page.input.node);
    page.config = build(configSchema, configSchema.$defs || configSchema.definitions || {}, "config", true);
    document.getElementById("config-fields").replaceChildren(page.config.node);
  } catch (error) {
    setStatus(`could not load the schemas: ${error.message}`, true);
    return;
  }
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    runButton.disabled = true;
    stopButton.disabled = false;
    try {
      await run(document.getElementById("endpoint").value);
    } catch (error) {
      setStatus(error.name === "AbortError" ? "stopped" : error.message, error.name !== "AbortError");
    } finally {
      runButton.disabled = false;
      stopButton.disabled = true;
    }
  });
  stopButton.addEventListener("click", () => page.abort && page.abort.abort());
  document.body.dataset.ready = "true";
}

start();
