// The console talks to the REST gateway (/v1/...) with the pasted bearer
// token. Everything it shows is set as text (textContent), never parsed as markup.
"use strict";

const TOKEN_KEY = "lienthong.token";
const $ = (sel) => document.querySelector(sel);

let token = localStorage.getItem(TOKEN_KEY) || "";
let claims = {};
let nextPage = "";

// ---- token -----------------------------------------------------------------

function decodeClaims(tok) {
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    return JSON.parse(json);
  } catch (e) {
    return {};
  }
}

function useToken(tok) {
  token = tok.trim();
  localStorage.setItem(TOKEN_KEY, token);
  claims = decodeClaims(token);
  $("#token").value = token;
  const scope = claims.commune ? "xã " + claims.commune : claims.province ? "tỉnh " + claims.province : claims.agency ? claims.agency : "toàn quốc";
  $("#who").textContent = claims.role ? `${claims.role} · ${claims.sub} · ${scope}` : "";
}

async function loadDevTokens() {
  const res = await fetch("/console/dev-tokens");
  if (!res.ok) return;
  const list = await res.json();
  const sel = $("#dev-tokens");
  for (const t of list) {
    const o = document.createElement("option");
    o.value = t.token;
    o.textContent = t.label;
    sel.appendChild(o);
  }
  sel.hidden = list.length === 0;
  sel.addEventListener("change", () => {
    if (sel.value) useToken(sel.value);
    sel.value = "";
  });
}

// ---- calls -----------------------------------------------------------------

function say(text, kind) {
  const m = $("#message");
  m.textContent = text;
  m.className = kind || "";
}

async function call(method, path, body) {
  const opts = { method, headers: { Accept: "application/json" } };
  if (token) opts.headers.Authorization = "Bearer " + token;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const text = await res.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { message: text }; }
  if (!res.ok) {
    let msg = `HTTP ${res.status}: ${data.message || res.statusText}`;
    for (const d of data.details || []) {
      for (const v of d.fieldViolations || []) msg += `\n  • ${v.field}: ${v.description}`;
    }
    const err = new Error(msg);
    err.status = res.status;
    throw err;
  }
  return data;
}

// ---- formatting ------------------------------------------------------------

const dateFmt = new Intl.DateTimeFormat("vi-VN", { dateStyle: "short", timeStyle: "short", timeZone: "Asia/Ho_Chi_Minh" });
const when = (ts) => (ts ? dateFmt.format(new Date(ts)) : "");
const short = (v, prefix) => (v || "").replace(prefix, "");

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function clear(tbody) {
  while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
}

// ---- dossiers --------------------------------------------------------------

async function listDossiers(append) {
  const q = new URLSearchParams();
  const status = $("#f-status").value;
  const group = $("#f-group").value;
  if (status) q.append("statuses", status);
  if (group) q.set("group", group);
  if ($("#f-overdue").checked) q.set("overdueOnly", "true");
  q.set("pageSize", "50");
  if (append && nextPage) q.set("pageToken", nextPage);
  try {
    const data = await call("GET", "/v1/dossiers?" + q.toString());
    const tbody = $("#dossiers tbody");
    if (!append) clear(tbody);
    for (const d of data.dossiers || []) {
      const tr = document.createElement("tr");
      tr.className = "clickable";
      cell(tr, d.code);
      cell(tr, d.group === "GROUP_BIRTH" ? "khai sinh" : "khai tử");
      cell(tr, short(d.status, "DOSSIER_STATUS_"));
      cell(tr, d.communeCode);
      cell(tr, when(d.receivedAt));
      cell(tr, when(d.appointmentAt));
      cell(tr, d.overdue ? "quá hạn" : "", d.overdue ? "overdue" : "");
      tr.addEventListener("click", () => openDossier(d.code));
      tbody.appendChild(tr);
    }
    nextPage = data.nextPageToken || "";
    $("#more").hidden = !nextPage;
    say(`${tbody.children.length} hồ sơ / dossiers`, "info");
  } catch (e) {
    say(e.message, "error");
  }
}

async function openDossier(code) {
  try {
    const data = await call("GET", `/v1/dossiers/${encodeURIComponent(code)}?purpose=${encodeURIComponent("xem trên bảng điều khiển / console")}`);
    const d = data.dossier;
    $("#detail").hidden = false;
    $("#detail-title").textContent = d.code;
    $("#detail-summary").textContent =
      `${short(d.status, "DOSSIER_STATUS_")} · tiếp nhận ${when(d.receivedAt)} · hạn ${when(d.dueAt)} · hẹn trả ${when(d.appointmentAt)}` +
      (d.overdue ? " · QUÁ HẠN" : "") + (d.outcomeReason ? ` · ${d.outcomeReason}` : "");
    const tbody = $("#steps tbody");
    clear(tbody);
    for (const s of d.steps || []) {
      const tr = document.createElement("tr");
      cell(tr, short(s.kind, "STEP_KIND_").toLowerCase());
      cell(tr, s.agency);
      cell(tr, short(s.status, "STEP_STATUS_"), s.overdue ? "overdue" : "");
      cell(tr, when(s.dueAt));
      cell(tr, s.attempts || "");
      cell(tr, s.lastError || "");
      cell(tr, [s.reason, (s.missing || []).join(", ")].filter(Boolean).join(" · "));
      tbody.appendChild(tr);
    }
    const form = d.birth || d.death;
    $("#form-box").hidden = !form;
    $("#form-json").textContent = form ? JSON.stringify(form, null, 2) : "";
    await loadTrace(code);
  } catch (e) {
    say(e.message, "error");
  }
}

async function loadTrace(code) {
  const box = $("#trace-box");
  if (claims.role !== "supervisor" && claims.role !== "admin") {
    box.hidden = true;
    return;
  }
  const data = await call("GET", `/v1/supervisor/dossiers/${encodeURIComponent(code)}/trace`);
  const tbody = $("#trace tbody");
  clear(tbody);
  for (const ev of data.events || []) {
    const tr = document.createElement("tr");
    cell(tr, when(ev.at));
    cell(tr, ev.kind);
    cell(tr, ev.actor);
    cell(tr, ev.step && ev.step !== "STEP_KIND_UNSPECIFIED" ? short(ev.step, "STEP_KIND_").toLowerCase() : "");
    cell(tr, ev.outcome);
    cell(tr, ev.error, ev.error ? "overdue" : "");
    cell(tr, ev.detail);
    tbody.appendChild(tr);
  }
  box.hidden = false;
}

// ---- stuck -----------------------------------------------------------------

async function listStuck() {
  const q = new URLSearchParams();
  q.set("idleMinutes", $("#s-idle").value || "60");
  q.set("minAttempts", $("#s-attempts").value || "3");
  if ($("#s-agency").value) q.set("agency", $("#s-agency").value);
  try {
    const data = await call("GET", "/v1/supervisor/stuck?" + q.toString());
    const tbody = $("#stuck tbody");
    clear(tbody);
    for (const c of data.cases || []) {
      const tr = document.createElement("tr");
      cell(tr, c.code);
      cell(tr, short(c.step, "STEP_KIND_").toLowerCase());
      cell(tr, short(c.rule, "STUCK_RULE_").toLowerCase());
      cell(tr, when(c.since));
      cell(tr, c.diagnosis);
      cell(tr, c.remedy);
      const td = cell(tr, "");
      const retry = document.createElement("button");
      retry.textContent = "Thử lại / Retry";
      retry.addEventListener("click", () => act(c, "retry", { step: c.step, reason: "thử lại từ bảng điều khiển / console retry" }));
      const esc = document.createElement("button");
      esc.textContent = "Báo cáo / Escalate";
      esc.addEventListener("click", () => act(c, "escalate", { step: c.step, note: "báo cáo từ bảng điều khiển / escalated from the console" }));
      td.append(retry, " ", esc);
      tbody.appendChild(tr);
    }
    say(`${(data.cases || []).length} bước vướng mắc / stuck steps`, "info");
  } catch (e) {
    say(e.message, "error");
  }
}

async function act(c, what, body) {
  try {
    await call("POST", `/v1/supervisor/dossiers/${encodeURIComponent(c.code)}/${what}`, body);
    say(`${c.code}: ${what} OK`, "info");
    await listStuck();
  } catch (e) {
    say(e.message, "error");
  }
}

// ---- submit ----------------------------------------------------------------

function requestId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

function daysAgo(n) {
  return new Date(Date.now() - n * 86400000).toISOString();
}

// devSamples, in dev, name people the mock agencies really know.
let devSamples = null;

async function loadDevSamples() {
  try {
    const r = await fetch("/console/dev-samples");
    if (r.ok) devSamples = await r.json();
  } catch (e) {
    devSamples = null;
  }
}

function sample(group) {
  if (devSamples && devSamples[group]) {
    const s = JSON.parse(JSON.stringify(devSamples[group]));
    s.requestId = requestId();
    return s;
  }
  const commune = claims.commune || "00004";
  if (group === "death") {
    return {
      requestId: requestId(),
      form: {
        communeCode: "00004",
        provinceCode: "001",
        deceased: {
          fullName: "Lê Văn Cường", idNumber: "001050246810", birthDate: "1950-03-15", sex: "SEX_MALE",
          deathTime: daysAgo(3), placeOfDeath: "Bệnh viện Bạch Mai", causeOfDeath: "Bệnh tuổi già",
          deathNoticeNumber: "GBT-2026-0042", deathNoticeIssuer: "Bệnh viện Bạch Mai",
        },
        declarant: { fullName: "Lê Thị Mai", idNumber: "001178135790", relationship: "con gái", phone: "0987 654 321" },
        recipient: {
          fullName: "Lê Thị Mai", idNumber: "001178135790", relationship: "con gái",
          paymentMethod: "PAYMENT_METHOD_BANK", bankCode: "VCB", bankAccount: "0011004455667",
        },
        bundle: "DEATH_BUNDLE_THREE",
        delivery: "DELIVERY_PAPER_AT_COMMUNE",
      },
    };
  }
  return {
    requestId: requestId(),
    communeCode: commune,
    form: {
      child: {
        fullName: "Nguyễn Minh An", sex: "SEX_MALE", birthTime: daysAgo(2),
        placeOfBirth: "Bệnh viện Đa khoa Xanh Pôn", ethnicity: "Kinh", nationality: "VN",
        birthCertificateNumber: "CS-2026-000123",
      },
      father: { fullName: "Nguyễn Văn Bình", birthDate: "1990-05-12", ethnicity: "Kinh", nationality: "VN", idNumber: "001090123456", sex: "SEX_MALE" },
      mother: { fullName: "Trần Thị Hoa", birthDate: "1992-08-20", ethnicity: "Kinh", nationality: "VN", idNumber: "001192654321", sex: "SEX_FEMALE" },
      residence: {
        provinceCode: "001", communeCode: "00004", streetAddress: "12 phố Đội Cấn",
        householdHeadIdNumber: "001090123456", householdHeadConsent: true,
      },
      facilityCode: "01001",
      requester: { fullName: "Nguyễn Văn Bình", idNumber: "001090123456", relationship: "cha", phone: "0912 345 678", email: "binh@example.vn" },
      delivery: "DELIVERY_ELECTRONIC",
    },
  };
}

function resetSample() {
  $("#sample").value = JSON.stringify(sample($("#sample-group").value), null, 2);
}

async function submitSample() {
  const group = $("#sample-group").value;
  let body;
  try {
    body = JSON.parse($("#sample").value);
  } catch (e) {
    say("JSON không hợp lệ / invalid JSON: " + e.message, "error");
    return;
  }
  try {
    const data = await call("POST", `/v1/dossiers/${group}`, body);
    say(`Đã tiếp nhận / received: ${data.code} — hẹn trả / appointment ${when(data.appointmentAt)}`, "info");
  } catch (e) {
    say(e.message, "error");
  }
}

// ---- wiring ----------------------------------------------------------------

function showTab(name) {
  for (const b of document.querySelectorAll("nav button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== "tab-" + name;
  say("");
}

document.addEventListener("DOMContentLoaded", () => {
  useToken(token);
  loadDevTokens();
  $("#token-form").addEventListener("submit", (e) => { e.preventDefault(); useToken($("#token").value); });
  for (const b of document.querySelectorAll("nav button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#list-form").addEventListener("submit", (e) => { e.preventDefault(); listDossiers(false); });
  $("#more").addEventListener("click", () => listDossiers(true));
  $("#stuck-form").addEventListener("submit", (e) => { e.preventDefault(); listStuck(); });
  $("#sample-group").addEventListener("change", resetSample);
  $("#sample-reset").addEventListener("click", resetSample);
  $("#submit").addEventListener("click", submitSample);
  resetSample();
  loadDevSamples().then(resetSample);
});
