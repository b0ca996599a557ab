// 12336 reporter H5: report a violation, follow my reports. Plain DOM, no build step; every
// text from the server is inserted as text (never as HTML).
"use strict";

const API = "/api/reporter";
const app = document.getElementById("app");
const STATE_LABELS = {
  received: "待判定", escalated: "已提请上级", accepted: "核查中", closed: "已办结", merged: "已合并办理",
};
const DELIVERY_LABELS = { queued: "待推送", sent: "已推送", failed: "推送失败，将重试", undeliverable: "无法推送" };

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(...nodes) {
  app.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined && n !== false));
  window.scrollTo(0, 0);
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const res = await fetch(API + path, {
    method,
    credentials: "same-origin",
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (res.status === 401) {
    // No session yet: go through WeChat OAuth and come back here. A route too long for the
    // OAuth state (a notice link) waits in this tab's sessionStorage behind "#/resume".
    const here = location.hash || "#/";
    sessionStorage.setItem("resume", here);
    const ret = here.length <= 48 ? here : "#/resume";
    location.href = API + "/login?return=" + encodeURIComponent(ret);
    throw new ApiError(401, "unauthenticated", "请在微信中打开");
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || "error", err.message || "请求失败，请稍后再试");
  }
  return data;
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  // Shown in Asia/Shanghai, as every date of the platform.
  const s = new Date(d.getTime() + (480 + d.getTimezoneOffset()) * 60000);
  return `${s.getFullYear()}-${p(s.getMonth() + 1)}-${p(s.getDate())} ${p(s.getHours())}:${p(s.getMinutes())}`;
}

function failure(e) {
  return h("div", { class: "card" }, h("p", { class: "error" }, e.message || "出错了"),
    h("a", { class: "button secondary", href: "#/" }, "返回首页"));
}

// ---------------------------------------------------------------- pages

function home() {
  show(h("div", { class: "card" },
    h("h2", {}, "12336国土资源违法线索举报"),
    h("p", { class: "muted" }, "举报违法批地、违法占地、破坏耕地、违法开采等土地、矿产资源违法行为。"),
    h("a", { class: "button block", href: "#/report" }, "我要举报"),
    h("a", { class: "button secondary block", href: "#/mine" }, "我的举报")));
}

// A draft lives in sessionStorage so that going back and forth keeps what was typed.
const draft = JSON.parse(sessionStorage.getItem("draft") || "{}");
function saveDraft() { sessionStorage.setItem("draft", JSON.stringify(draft)); }

async function pickLocation() {
  const card = h("div", { class: "card" }, h("h2", {}, "第一步：选择违法行为发生地"));
  const levels = [
    { key: "province", label: "省（自治区、直辖市）" },
    { key: "city", label: "市" },
    { key: "county", label: "县（市、区）" },
  ];
  const selects = {};
  const next = h("button", { class: "block", disabled: true, onclick: () => { location.hash = "#/notice"; } }, "下一步");
  for (const lv of levels) {
    selects[lv.key] = h("select", { id: "sel-" + lv.key, "aria-label": lv.label },
      h("option", { value: "" }, "请选择" + lv.label));
    card.append(h("label", { for: "sel-" + lv.key }, lv.label), selects[lv.key]);
  }
  card.append(next);
  show(card);

  async function fill(level, parent) {
    const sel = selects[level];
    sel.replaceChildren(h("option", { value: "" }, "请选择"));
    const list = await api("GET", "/divisions" + (parent ? "?parent=" + parent : ""));
    // Divisions without a bureau on the platform are marked: a reporter learns it before writing.
    for (const d of list) {
      sel.append(h("option", { value: d.code, "data-reportable": d.reportable ? "1" : "", "data-served": d.served ? "1" : "" },
        d.served ? d.name : d.name + "（暂未开通）"));
    }
    sel.disabled = list.length === 0;
  }
  const unserved = h("p", { class: "error", id: "not-served", hidden: true });
  card.insertBefore(unserved, next);
  function choose(code, name) {
    draft.division = code; draft.division_name = name; saveDraft();
    next.disabled = !code;
    unserved.hidden = true;
  }
  // A place without a bureau: the platform's own words (the same as the chat's), no next step.
  async function refuseUnserved(code) {
    next.disabled = true;
    try {
      await api("GET", "/reporting-notice?division=" + encodeURIComponent(code));
      next.disabled = false;
    } catch (e) {
      draft.division = null; saveDraft();
      unserved.textContent = e.message;
      unserved.hidden = false;
    }
  }
  try {
    await fill("province");
    selects.province.onchange = async () => {
      choose(null);
      selects.county.replaceChildren(h("option", { value: "" }, "请选择"));
      if (selects.province.value) await fill("city", selects.province.value);
    };
    selects.city.onchange = async () => {
      choose(null);
      const opt = selects.city.selectedOptions[0];
      if (!selects.city.value) return;
      if (opt && opt.dataset.reportable) {
        // A city without counties is itself the location.
        selects.county.replaceChildren(h("option", { value: "" }, "（不设区县）"));
        choose(selects.city.value, opt.textContent);
        if (!opt.dataset.served) await refuseUnserved(selects.city.value);
      } else {
        await fill("county", selects.city.value);
      }
    };
    selects.county.onchange = async () => {
      const opt = selects.county.selectedOptions[0];
      choose(selects.county.value, opt ? opt.textContent : "");
      if (opt && selects.county.value && !opt.dataset.served) await refuseUnserved(selects.county.value);
    };
  } catch (e) { show(failure(e)); }
}

async function readNotice() {
  if (!draft.division) { location.hash = "#/report"; return; }
  try {
    const notice = await api("GET", "/reporting-notice?division=" + draft.division);
    draft.notice = notice; saveDraft();
    const box = h("input", { type: "checkbox", id: "consent" });
    const go = h("button", { class: "block", disabled: true, onclick: () => { location.hash = "#/form"; } }, "同意并填写举报");
    box.onchange = () => { go.disabled = !box.checked; draft.consent = box.checked; saveDraft(); };
    show(h("div", { class: "card" },
      h("h2", {}, "第二步：阅读《举报说明》"),
      h("div", { class: "notice-text", id: "notice-text" }, notice.text),
      h("label", { class: "consent", for: "consent" }, box, "已阅读并同意该《举报说明》"),
      go));
  } catch (e) { show(failure(e)); }
}

function field(id, label, input, optional, hint) {
  return [h("label", { for: id }, label, optional ? h("span", { class: "opt" }, "（选填）") : null), input,
    hint ? h("p", { class: "muted" }, hint) : null];
}

function reportForm() {
  if (!draft.consent || !draft.notice) { location.hash = "#/notice"; return; }
  const notice = draft.notice;
  const address = h("input", { type: "text", id: "address", maxlength: 200, value: draft.address || "" });
  const subject = h("input", { type: "text", id: "subject", maxlength: 100, value: draft.subject || "" });
  const category = h("select", { id: "category" }, h("option", { value: "uncertain" }, "不确定"));
  for (const c of notice.categories || []) category.append(h("option", { value: "annex:" + c.code }, c.name));
  for (const c of notice.extras || []) category.append(h("option", { value: "city_extra:" + c.code }, c.name));
  if (draft.category) category.value = draft.category;
  const facts = h("textarea", { id: "facts", maxlength: 5000 }, draft.facts || "");
  const counter = h("span", { class: "counter" }, `${(draft.facts || "").length}/5000`);
  facts.oninput = () => { counter.textContent = `${facts.value.length}/5000`; };
  const gpsText = h("span", { class: "muted", id: "gps" }, draft.gps ? "已获取位置" : "");
  const gpsButton = h("button", { type: "button", class: "secondary", onclick: () => {
    if (!navigator.geolocation) { toast("无法获取位置"); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => { draft.gps = { lat: p.coords.latitude, lng: p.coords.longitude }; saveDraft(); gpsText.textContent = "已获取位置"; },
      () => toast("未能获取位置，可不填"));
  } }, "获取当前位置");
  const files = h("input", { type: "file", id: "photos", multiple: true, accept: "image/jpeg,image/png,image/webp,video/mp4,application/pdf" });
  const uploads = h("ul", { class: "uploads", id: "uploads" });
  const attachments = [];
  files.onchange = () => { for (const f of files.files) upload(f, uploads, attachments); files.value = ""; };
  const name = h("input", { type: "text", id: "real-name", maxlength: 50 });
  const phone = h("input", { type: "tel", id: "phone", maxlength: 20 });
  const idNumber = h("input", { type: "text", id: "id-number", maxlength: 18 });
  const errors = h("p", { class: "error", id: "form-error" });
  const submit = h("button", { class: "block", id: "submit" }, "提交举报");

  submit.onclick = async () => {
    Object.assign(draft, { address: address.value, subject: subject.value, category: category.value, facts: facts.value });
    saveDraft();
    errors.textContent = "";
    if (attachments.some((a) => a.status === "uploading")) { errors.textContent = "请等待证据材料上传完成"; return; }
    const [kind, code] = category.value.includes(":") ? category.value.split(":") : ["uncertain", undefined];
    const body = {
      division: draft.division,
      address: address.value,
      gps: draft.gps || null,
      subject: subject.value || null,
      category: code ? { kind, code } : { kind: "uncertain" },
      facts: facts.value,
      attachments: attachments.filter((a) => a.status === "done").map((a) => a.id),
      notice_version: notice.version_id,
      consent: true,
      identity: name.value || phone.value || idNumber.value
        ? { name: name.value || null, phone: phone.value || null, id_number: idNumber.value || null } : null,
      resubmission_of: draft.resubmission_of || null,
    };
    submit.disabled = true;
    try {
      const res = await api("POST", "/clues", body);
      sessionStorage.removeItem("draft");
      for (const k of Object.keys(draft)) delete draft[k];
      show(h("div", { class: "card", id: "submitted" },
        h("h2", {}, "提交成功"),
        h("p", {}, "线索编号：", h("strong", { id: "clue-no" }, res.clue_no)),
        h("div", { class: "notice", id: "receipt-text" }, res.receipt_notice),
        h("a", { class: "button block", href: "#/clue/" + encodeURIComponent(res.clue_id) }, "查看办理进度")));
    } catch (e) {
      errors.textContent = e.message;
      submit.disabled = false;
    }
  };

  show(h("div", { class: "card" },
    h("h2", {}, "第三步：填写举报内容"),
    h("p", { class: "muted" }, "发生地：", draft.division_name || draft.division),
    field("address", "详细地址", address, false, "如乡镇（街道）、村、路名及周边标志"),
    h("div", { class: "row" }, gpsButton, gpsText),
    field("subject", "违法主体", subject, true, "被举报的个人、单位或组织"),
    field("category", "违法类型", category, false),
    h("label", { for: "facts" }, "主要违法事实", counter), facts,
    h("label", { for: "photos" }, "证据材料", h("span", { class: "opt" }, "（照片、视频、PDF，选填）")), files, uploads,
    h("details", {}, h("summary", {}, "实名信息（提倡实名举报，选填）"),
      field("real-name", "姓名", name, true), field("phone", "手机号码", phone, true), field("id-number", "身份证号码", idNumber, true),
      h("p", { class: "muted" }, "您的个人信息将加密保存，仅在办理需要时经审批查看。")),
    errors, submit));
}

// Uploads one file with a presigned POST, showing progress, then waits until the platform has
// checked it.
async function upload(file, list, attachments) {
  const bar = h("progress", { max: 100, value: 0 });
  const status = h("span", { class: "muted" }, "上传中");
  list.append(h("li", {}, h("span", {}, file.name), bar, status));
  const entry = { status: "uploading" };
  attachments.push(entry);
  try {
    const auth = await api("POST", "/uploads", { file_name: file.name, content_type: file.type, size: file.size });
    entry.id = auth.attachment_id;
    await new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(auth.fields)) form.append(k, v);
      form.append("file", file);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", auth.url);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100); };
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error("上传失败")));
      xhr.onerror = () => reject(new Error("上传失败"));
      xhr.send(form);
    });
    bar.value = 100;
    status.textContent = "检查中";
    for (let i = 0; i < 30; i++) {
      const st = await api("GET", "/uploads/" + encodeURIComponent(entry.id));
      if (st.status === "ready") { entry.status = "done"; status.textContent = "已上传"; return; }
      if (st.status === "rejected") throw new Error(st.reason || "文件不符合要求");
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error("检查超时，请重试");
  } catch (e) {
    entry.status = "failed";
    status.textContent = e.message;
    status.className = "error";
  }
}

async function mine() {
  try {
    const clues = await api("GET", "/clues");
    const list = h("ul", { class: "list", id: "my-clues" });
    for (const c of clues) {
      list.append(h("li", {}, h("a", { href: "#/clue/" + encodeURIComponent(c.clue_id) },
        h("div", {}, h("strong", {}, c.clue_no), " ",
          h("span", { class: "badge" + (c.state === "closed" ? " closed" : "") }, c.state_label || STATE_LABELS[c.state] || c.state)),
        h("div", { class: "muted" }, c.location_name || "", " · ", fmtTime(c.received_at)),
        ...(c.deadlines || []).filter((d) => d.status === "open").map((d) =>
          h("div", { class: "muted deadline" }, d.label, "：", d.due_text)))));
    }
    show(h("div", { class: "card" }, h("h2", {}, "我的举报"),
      clues.length ? list : h("p", { class: "muted" }, "暂无举报记录"),
      h("a", { class: "button block", href: "#/report" }, "我要举报")));
  } catch (e) { show(failure(e)); }
}

async function clueDetail(id) {
  try {
    const c = await api("GET", "/clues/" + encodeURIComponent(id));
    const timeline = h("ul", { class: "timeline", id: "timeline" });
    for (const t of c.timeline || []) {
      timeline.append(h("li", {}, h("div", { class: "muted" }, fmtTime(t.at)), h("div", {}, t.label),
        t.notice ? h("div", { class: "notice" }, t.notice) : null));
    }
    const notices = h("div", { id: "notices" });
    for (const n of c.notices || []) {
      notices.append(h("div", { class: "notice" }, h("div", {}, n.text),
        h("div", { class: "muted" }, fmtTime(n.at), " · ", DELIVERY_LABELS[n.delivery] || n.delivery)));
    }
    // Legal deadlines: Asia/Shanghai dates from the API, "待定" while the calendar lacks the year.
    const deadlines = h("ul", { class: "list", id: "deadlines" });
    for (const d of c.deadlines || []) {
      deadlines.append(h("li", {}, h("div", {}, d.label, "：", d.due_text),
        h("div", { class: "muted" }, d.status_label)));
    }
    // Photos sent in the guided chat that are not among the evidence, and why.
    const leftOut = h("ul", { class: "list", id: "evidence-left-out" });
    for (const l of c.evidence_left_out || []) {
      leftOut.append(h("li", {}, `第${l.number}张照片：${l.text}`));
    }
    const messages = h("div", { id: "messages" });
    for (const m of c.messages || []) {
      messages.append(h("div", { class: "msg " + (m.from === "reporter" ? "me" : "officer") }, m.text,
        h("div", { class: "muted" }, fmtTime(m.at))));
    }
    const input = h("textarea", { id: "message-text", maxlength: 2000, placeholder: "向承办人补充情况或提问" });
    const send = h("button", { class: "block", onclick: async () => {
      if (!input.value.trim()) return;
      send.disabled = true;
      try { await api("POST", `/clues/${encodeURIComponent(id)}/messages`, { text: input.value }); clueDetail(id); }
      catch (e) { toast(e.message); send.disabled = false; }
    } }, "发送");
    const resubmit = c.can_resubmit ? h("button", { class: "secondary block", onclick: () => {
      Object.assign(draft, { resubmission_of: c.clue_id, division: c.division, division_name: c.location_name });
      saveDraft();
      location.hash = "#/notice";
    } }, "补充材料后重新提交") : null;
    show(
      h("div", { class: "card" }, h("h2", {}, "线索 ", c.clue_no),
        h("p", {}, h("span", { class: "badge" + (c.state === "closed" ? " closed" : "") }, c.state_label || STATE_LABELS[c.state])),
        h("p", { class: "muted" }, c.location_name, " ", c.address), resubmit),
      (c.evidence_left_out || []).length ? h("div", { class: "card" }, h("h2", {}, "未作为证据提交的照片"),
        h("p", { class: "muted" }, `已提交证据材料${c.evidence_count}个。以下照片未能保存或未随举报提交：`), leftOut) : null,
      (c.deadlines || []).length ? h("div", { class: "card" }, h("h2", {}, "法定期限"), deadlines) : null,
      h("div", { class: "card" }, h("h2", {}, "告知"), notices),
      h("div", { class: "card" }, h("h2", {}, "办理进度"), timeline),
      c.state === "closed" ? null : h("div", { class: "card" }, h("h2", {}, "沟通"), messages, input, send));
  } catch (e) { show(failure(e)); }
}

// The reporting notice of a place, read-only (the guided chat links here before asking consent).
async function noticeOf(division) {
  try {
    const notice = await api("GET", "/reporting-notice?division=" + encodeURIComponent(division));
    show(h("div", { class: "card" },
      h("h2", {}, "举报说明"),
      h("div", { class: "notice-text", id: "notice-text" }, notice.text),
      h("p", { class: "muted" }, "版本：", notice.version_id),
      h("p", { class: "muted" }, "在对话中回复“同意”即表示已阅读并同意该《举报说明》。")));
  } catch (e) { show(failure(e)); }
}

// ---------------------------------------------------------------- router

function route() {
  if (location.hash === "#/resume") {
    const back = sessionStorage.getItem("resume");
    sessionStorage.removeItem("resume");
    location.replace(back && back.startsWith("#/") ? back : "#/");
    return;
  }
  const hash = location.hash || "#/";
  const title = document.getElementById("title");
  if (hash.startsWith("#/clue/")) { title.textContent = "办理进度"; return clueDetail(decodeURIComponent(hash.slice(7))); }
  // A pushed notice links to its clue's page, where the verbatim text is.
  if (hash.startsWith("#/notices/")) { title.textContent = "告知"; return clueDetail(decodeURIComponent(hash.slice(10).split("/")[0])); }
  if (hash.startsWith("#/notice/")) { title.textContent = "举报说明"; return noticeOf(decodeURIComponent(hash.slice(9))); }
  switch (hash) {
    case "#/report": title.textContent = "我要举报"; return pickLocation();
    case "#/notice": title.textContent = "举报说明"; return readNotice();
    case "#/form": title.textContent = "填写举报"; return reportForm();
    case "#/mine": title.textContent = "我的举报"; return mine();
    default: title.textContent = "国土资源违法举报"; return home();
  }
}

window.addEventListener("hashchange", route);
route();
