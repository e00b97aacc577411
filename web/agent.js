// The agent console (/agent): log in, the queue (live over Server-Sent Events), claim, the
// borrower's summary and transcript, a chat pane with canned replies, resolve with a note;
// supervisors also see everyone's handoffs and the agents' load.
// Everything that came from a borrower or an agent is put on the page with textContent only:
// no message can inject markup or script.
(function () {
  'use strict';

  var TICK_MS = 15000; // waiting times shown are refreshed this often

  // Why a conversation came to a person: the rule ids of dialogs/escalation/rules.json and
  // dialogs/policy/handoff.json. An unknown id is shown as it is.
  var RULES = {
    selfHarm: ['自伤风险', 'Self-harm risk'],
    vulnerability: ['弱势客户', 'Vulnerable customer'],
    legalThreat: ['法律或监管', 'Legal or regulator threat'],
    dispute: ['否认债务', 'Disputes the debt'],
    abuse: ['情绪激动', 'Abusive or angry'],
    explicitRequest: ['要求人工', 'Asked for a person'],
    identityLockout: ['身份验证锁定', 'Identity lockout'],
    notUnderstood: ['多次未能理解', 'Not understood twice'],
    beyondPolicy: ['超出政策', 'Beyond policy'],
    beyondSelfService: ['超出自助范围', 'Beyond self-service'],
    highSeverityComplaint: ['严重投诉', 'High-severity complaint']
  };
  var STATUS = { queued: ['排队中', 'Queued'], active: ['处理中', 'Active'], resolved: ['已解决', 'Resolved'] };
  var DIRECTION = { 'in': ['借款人', 'Borrower'], out: ['机器人', 'Bot'], agent: ['坐席', 'Agent'] };
  var SUMMARY_FIELDS = [
    ['verified', '身份已验证', 'Verified'],
    ['borrowerName', '姓名', 'Name'],
    ['amountDue', '应还金额', 'Amount due'],
    ['hardship', '困难原因', 'Hardship reason'],
    ['tried', '已尝试', 'What was tried'],
    ['agentsAvailable', '工作时间内', 'Within agent hours'],
    ['lastMessages', '最近消息', 'Last messages']
  ];
  // Canned replies in both languages; choosing one fills the reply box, to be edited before sending.
  var CANNED = [
    { zh: '您好，我是人工客服，已经看到您之前的对话，请问有什么可以帮您？', en: 'Hello, I am a member of our support team. I have read your conversation so far; how can I help?' },
    { zh: '感谢您的耐心等待，我正在为您核实，请稍候。', en: 'Thank you for waiting. I am checking this for you now, one moment please.' },
    { zh: '为了保护您的信息，请不要在对话中发送完整身份证号码或密码。', en: 'To protect your information, please do not send your full ID number or any password here.' },
    { zh: '我已记录您的情况，我们会在 1 个工作日内给您回复。', en: 'I have recorded your situation; we will get back to you within one working day.' },
    { zh: '您说的情况我们很重视，我会尽力为您找到合适的还款安排。', en: 'We take what you told us seriously; I will do my best to find a repayment arrangement that works for you.' },
    { zh: '问题已处理完毕，接下来由还款助手继续为您服务。祝您生活顺利！', en: 'That is all sorted. The Repayment Assistant will take it from here. Take care!' }
  ];

  var $ = function (id) { return document.getElementById(id); };
  var session = null;
  // web/staffSession.js: the stored session, authorised calls (a 401 logs out) and the login form.
  var auth = window.staffSession({ checkExpiry: true, onChange: function (s) { session = s; }, onLogin: function () { start(); }, onExpired: function (m) { logout(m); } });
  var view = { tab: 'open', selectedId: null, selected: null, handoffs: [] };
  var events = null; // the EventSource of the live feed
  var reconnectTimer = null;

  // ---- small DOM helpers (text only) -------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** "中文 English", the English part lighter. */
  function bilingual(pair, tag) {
    var node = el(tag || 'span');
    node.appendChild(document.createTextNode(pair[0] + ' '));
    node.appendChild(el('span', 'en', pair[1]));
    return node;
  }

  function duration(seconds) {
    if (seconds < 60) return seconds + ' 秒 s';
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + ' 分 min';
    return Math.floor(minutes / 60) + ' 小时 h ' + (minutes % 60) + ' 分 min';
  }

  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? '' : d.toLocaleString('zh-CN', { hour12: false });
  }

  function showError(id, text) { $(id).textContent = text || ''; }

  // ---- session and API ---------------------------------------------------------------------------

  // ---- log in / out ------------------------------------------------------------------------------

  $('logout').addEventListener('click', function () { logout(''); });

  function logout(message) {
    auth.save(null);
    if (events) events.close();
    events = null;
    clearTimeout(reconnectTimer);
    view.selectedId = null;
    view.selected = null;
    $('console-view').hidden = true;
    $('who').hidden = true;
    $('login-view').hidden = false;
    showError('login-error', message);
  }

  function start() {
    $('login-view').hidden = true;
    $('console-view').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = session.username;
    $('who-role').textContent = session.role === 'supervisor' ? '主管 Supervisor' : '坐席 Agent';
    $('load').hidden = session.role !== 'supervisor';
    $('reports-link').hidden = session.role !== 'supervisor';
    connect();
    refresh();
  }

  // ---- live updates ------------------------------------------------------------------------------

  function connect() {
    if (events) events.close();
    // EventSource cannot send headers: the token goes in the URL of this one stream only.
    events = new EventSource('/api/agent/events?token=' + encodeURIComponent(session.token));
    events.onopen = function () { $('live').classList.add('on'); };
    events.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (err) { return; }
      if (e.type === 'message') {
        if (e.handoffId === view.selectedId) loadDetail(view.selectedId);
      } else {
        refresh();
      }
    };
    events.onerror = function () {
      $('live').classList.remove('on');
      // The browser retries by itself unless the server refused the stream (e.g. an expired token):
      // then check the session with a plain request (a 401 logs out) and try again a little later.
      if (events.readyState === EventSource.CLOSED) {
        clearTimeout(reconnectTimer);
        reconnectTimer = setTimeout(function () {
          auth.api('GET', '/api/agent/handoffs?status=queued').then(function (r) { if (r.status === 200 && session) connect(); });
        }, 5000);
      }
    };
  }

  // ---- queue -------------------------------------------------------------------------------------

  document.querySelectorAll('.tabs [data-status]').forEach(function (tab) {
    tab.addEventListener('click', function () {
      view.tab = tab.getAttribute('data-status');
      document.querySelectorAll('.tabs [data-status]').forEach(function (t) { t.setAttribute('aria-selected', String(t === tab)); });
      refresh();
    });
  });

  function refresh() {
    if (!session) return;
    var query = view.tab === 'resolved' ? '?status=resolved' : '';
    auth.api('GET', '/api/agent/handoffs' + query).then(function (r) {
      if (r.status !== 200) return;
      view.handoffs = r.body.handoffs;
      renderQueue();
    });
    if (view.selectedId) loadDetail(view.selectedId);
    if (session.role === 'supervisor') loadLoad();
  }

  function renderQueue() {
    var list = $('queue');
    list.replaceChildren();
    view.handoffs.forEach(function (h) {
      var item = el('li', 'item ' + h.status + (h.id === view.selectedId ? ' selected' : ''));
      item.setAttribute('data-id', h.id);
      item.tabIndex = 0;
      var top = el('div', 'item-top');
      top.appendChild(el('span', 'priority p' + Math.min(9, Math.floor(h.priority / 10)), 'P' + h.priority));
      top.appendChild(bilingual(RULES[h.rule] || [h.rule, '']));
      item.appendChild(top);
      var who = h.borrower ? h.borrower.name : '未验证 Unverified';
      item.appendChild(el('div', 'item-who', who));
      var meta = el('div', 'item-meta');
      meta.appendChild(bilingual(STATUS[h.status] || [h.status, '']));
      meta.appendChild(el('span', 'wait', (h.status === 'queued' ? '已等待 waiting ' : '等待了 waited ') + duration(h.waitingSeconds)));
      if (h.claimedBy) meta.appendChild(el('span', 'claimed', '· ' + h.claimedBy));
      item.appendChild(meta);
      item.addEventListener('click', function () { select(h.id); });
      item.addEventListener('keydown', function (e) { if (e.key === 'Enter') select(h.id); });
      list.appendChild(item);
    });
    $('queue-empty').hidden = view.handoffs.length > 0;
  }

  function select(id) {
    view.selectedId = id;
    renderQueue();
    showError('detail-error', '');
    loadDetail(id);
  }

  // ---- detail: summary, transcript, chat, resolve ------------------------------------------------

  function loadDetail(id) {
    auth.api('GET', '/api/agent/handoffs/' + encodeURIComponent(id) + '/transcript').then(function (r) {
      if (id !== view.selectedId) return; // another one was picked meanwhile
      if (r.status !== 200) {
        showError('detail-error', auth.problem(r));
        return;
      }
      view.selected = r.body.handoff;
      renderDetail(r.body.handoff, r.body.messages);
    });
  }

  function renderDetail(h, messages) {
    $('placeholder').hidden = true;
    $('handoff').hidden = false;
    $('h-title').replaceChildren(bilingual(RULES[h.rule] || [h.rule, '']), el('span', 'hid', ' ' + h.id));
    var meta = $('h-meta');
    meta.replaceChildren(bilingual(STATUS[h.status] || [h.status, '']), el('span', '', ' · P' + h.priority + ' · ' + clock(h.createdAt) + ' · ' + duration(h.waitingSeconds)));
    if (h.claimedBy) meta.appendChild(el('span', '', ' · ' + h.claimedBy));
    if (h.resolutionNote) meta.appendChild(el('span', 'note', ' · ' + h.resolutionNote));

    var mine = h.status === 'active' && (h.claimedBy === session.username || session.role === 'supervisor');
    $('claim').hidden = h.status !== 'queued';
    $('composer').hidden = !mine;
    $('resolve').hidden = !(mine || (h.status === 'queued' && session.role === 'supervisor'));

    renderSummary(h);
    renderTranscript(messages);
  }

  function renderValue(value) {
    if (value === true) return el('span', 'yes', '是 Yes');
    if (value === false) return el('span', 'no', '否 No');
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return el('span', 'muted', '—');
    if (Array.isArray(value)) {
      var list = el('ul');
      value.forEach(function (v) {
        var li = el('li');
        // Last messages: who said it, then the text (as stored: identity details masked).
        if (v && typeof v === 'object' && 'text' in v) {
          li.appendChild(bilingual(DIRECTION[v.direction] || [String(v.direction), ''], 'strong'));
          li.appendChild(document.createTextNode('：' + String(v.text)));
        } else {
          li.appendChild(renderValue(v));
        }
        list.appendChild(li);
      });
      return list;
    }
    if (typeof value === 'object') return el('span', '', JSON.stringify(value));
    return el('span', '', value);
  }

  function renderSummary(h) {
    var dl = $('summary');
    dl.replaceChildren();
    var summary = h.summary && typeof h.summary === 'object' ? h.summary : {};
    var add = function (label, value) {
      dl.appendChild(bilingual(label, 'dt'));
      var dd = el('dd');
      dd.appendChild(renderValue(value));
      dl.appendChild(dd);
    };
    add(['借款人', 'Borrower'], h.borrower ? h.borrower.name + ' (' + h.borrower.id + ')' : '未验证 Unverified');
    var known = {};
    SUMMARY_FIELDS.forEach(function (f) {
      known[f[0]] = true;
      if (f[0] in summary) add([f[1], f[2]], summary[f[0]]);
    });
    // Whatever else the conversation side recorded, shown as it is.
    Object.keys(summary).forEach(function (k) { if (!known[k]) add([k, ''], summary[k]); });
  }

  function renderTranscript(messages) {
    var list = $('transcript');
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren();
    messages.forEach(function (m) {
      var item = el('li', 'msg ' + m.direction);
      var head = el('div', 'msg-head');
      var who = DIRECTION[m.direction] || [m.direction, ''];
      head.appendChild(bilingual(who, 'strong'));
      if (m.direction === 'agent' && m.from && m.from.name) head.appendChild(el('span', '', ' ' + m.from.name));
      head.appendChild(el('time', '', clock(m.at)));
      item.appendChild(head);
      item.appendChild(el('p', 'msg-text', m.text));
      (m.attachments || []).forEach(function (a) {
        item.appendChild(el('p', 'attachment', '📎 ' + (a.name || a.contentType)));
      });
      list.appendChild(item);
    });
    if (atBottom || list.getAttribute('data-for') !== view.selectedId) list.scrollTop = list.scrollHeight;
    list.setAttribute('data-for', view.selectedId);
  }

  $('claim').addEventListener('click', function () {
    var id = view.selectedId;
    auth.api('POST', '/api/agent/handoffs/' + encodeURIComponent(id) + '/claim').then(function (r) {
      if (r.status !== 200) showError('detail-error', r.status === 409 ? '已被其他坐席认领。Already claimed by someone else. ' + auth.problem(r) : auth.problem(r));
      refresh();
    });
  });

  (function fillCanned() {
    var select = $('canned');
    select.appendChild(el('option', '', '— 选择 · Choose —'));
    [['zh', '中文'], ['en', 'English']].forEach(function (lang) {
      var group = el('optgroup');
      group.label = lang[1];
      CANNED.forEach(function (c, i) {
        var option = el('option', '', c[lang[0]]);
        option.value = lang[0] + ':' + i;
        group.appendChild(option);
      });
      select.appendChild(group);
    });
    select.addEventListener('change', function () {
      var parts = select.value.split(':');
      var canned = CANNED[Number(parts[1])];
      if (canned) $('message').value = canned[parts[0]];
      select.selectedIndex = 0;
      $('message').focus();
    });
  })();

  $('composer').addEventListener('submit', function (e) {
    e.preventDefault();
    var id = view.selectedId;
    var text = $('message').value;
    if (!text.trim()) return;
    $('send').disabled = true;
    auth.api('POST', '/api/agent/handoffs/' + encodeURIComponent(id) + '/messages', { text: text }).then(function (r) {
      $('send').disabled = false;
      if (r.status !== 201) {
        showError('detail-error', auth.problem(r));
        return;
      }
      showError('detail-error', '');
      $('message').value = '';
      loadDetail(id);
    }, function () { $('send').disabled = false; });
  });

  $('resolve').addEventListener('submit', function (e) {
    e.preventDefault();
    var id = view.selectedId;
    auth.api('POST', '/api/agent/handoffs/' + encodeURIComponent(id) + '/resolve', { note: $('note').value }).then(function (r) {
      if (r.status !== 200) {
        showError('detail-error', auth.problem(r));
        return;
      }
      $('note').value = '';
      refresh();
    });
  });

  // ---- supervisors: load -------------------------------------------------------------------------

  function loadLoad() {
    auth.api('GET', '/api/agent/load').then(function (r) {
      if (r.status !== 200) return;
      $('queue-stats').textContent = '排队 Queued: ' + r.body.queue.queued + ' · 最长等待 Longest wait: ' + duration(r.body.queue.longestWaitSeconds);
      var rows = $('load-rows');
      rows.replaceChildren();
      r.body.agents.forEach(function (a) {
        var tr = el('tr');
        tr.appendChild(el('td', '', a.username + (a.role === 'supervisor' ? ' ★' : '')));
        tr.appendChild(el('td', '', a.active));
        tr.appendChild(el('td', '', a.resolvedToday));
        rows.appendChild(tr);
      });
    });
  }

  setInterval(function () { if (session && view.tab === 'open') refresh(); }, TICK_MS);

  if (session) start();
})();
