// Dialog studio: product and compliance staff edit copy and policy in forms, check the draft as
// they type (POST /api/studio/validate), try it in a sandboxed chat with the demo borrowers
// (POST /api/studio/preview), publish with a comment, read the history with diffs and roll back.
// Shares the agent console's session storage; staff and supervisors may use it. Unpublished edits
// are kept in localStorage as a list of changed values, so a reload or a conflict loses nothing.
(function () {
  'use strict';
  var LANG_KEY = 'repayment-assistant.studio-lang';
  var DRAFT_KEY = 'repayment-assistant.studio-draft.';
  var CHECK_DELAY_MS = 400;
  var PLACEHOLDER = /\{(\w+)\}/g;

  var session = null;
  // web/staffSession.js: the stored session, authorised calls (a 401 shows the login) and the login form.
  var auth = window.staffSession({ onChange: function (s) { session = s; }, onLogin: function () { start(); }, onExpired: function (m) { showLogin(m); } });
  var current = null; // GET /api/studio/current
  var base = {}; // the published files the draft starts from
  var draft = {}; // what the editor shows
  var checkSeq = 0;
  var checkTimer = null;
  var lastProblems = [];
  var previewSession = null;
  var mermaidLoading = null;
  var activeTab = 'copy';

  // ---- small helpers -----------------------------------------------------------------------------

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /** Both languages; the page shows one (body.lang-zh / body.lang-en). */
  function t(zh, en) {
    var f = document.createDocumentFragment();
    f.appendChild(el('span', 'zh', zh));
    f.appendChild(el('span', 'en', en));
    return f;
  }
  function setText(node, zh, en) {
    node.textContent = '';
    node.appendChild(t(zh, en));
  }
  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function placeholdersOf(text) {
    var out = [];
    String(text || '').replace(PLACEHOLDER, function (_, name) { if (out.indexOf(name) < 0) out.push(name); return _; });
    return out.sort();
  }
  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }
  function getAt(root, path) {
    var v = root;
    for (var i = 0; i < path.length; i++) { if (v === null || v === undefined) return undefined; v = v[path[i]]; }
    return v;
  }
  function setAt(root, path, value) {
    var v = root;
    for (var i = 0; i < path.length - 1; i++) v = v[path[i]];
    v[path[path.length - 1]] = value;
  }
  /** Every changed leaf between two values: [{path, after}] (a list that changed length is one leaf). */
  function leafChanges(a, b, path, out) {
    if (isObject(a) && isObject(b)) {
      var keys = Object.keys(a).concat(Object.keys(b).filter(function (k) { return !(k in a); }));
      keys.forEach(function (k) { leafChanges(a[k], b[k], path.concat([k]), out); });
    } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach(function (x, i) { leafChanges(x, b[i], path.concat([i]), out); });
    } else if (!same(a, b)) {
      out.push({ path: path, after: clone(b) });
    }
    return out;
  }
  function draftChanges() {
    var out = [];
    Object.keys(draft).sort().forEach(function (file) {
      leafChanges(base[file], draft[file], [], []).forEach(function (c) { out.push({ file: file, path: c.path, after: c.after }); });
    });
    return out;
  }
  /** Only the files the draft changes: the server lays them over the version they were made from. */
  function changedFiles() {
    var out = {};
    Object.keys(draft).forEach(function (file) { if (!same(base[file], draft[file])) out[file] = draft[file]; });
    return out;
  }
  function versionId() { return current && current.version ? current.version.id : null; }
  function versionName(v) { return v === null ? '出厂版本 Shipped' : 'v' + v; }
  function when(iso) { try { return new Date(iso).toLocaleString(); } catch (e) { return iso; } }
  function shortValue(v) {
    if (v === null || v === undefined) return '—';
    return typeof v === 'string' ? v : JSON.stringify(v, null, 1);
  }

  // ---- language ----------------------------------------------------------------------------------

  function applyLanguage(lang) {
    document.body.className = lang === 'en' ? 'lang-en' : 'lang-zh';
    document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
    $('lang-toggle').textContent = lang === 'en' ? '中文' : 'English';
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* page-long choice */ }
  }
  $('lang-toggle').addEventListener('click', function () { applyLanguage(document.body.className === 'lang-en' ? 'zh' : 'en'); });
  applyLanguage((function () { try { return localStorage.getItem(LANG_KEY) || 'zh'; } catch (e) { return 'zh'; } })());

  // ---- session and API ---------------------------------------------------------------------------


  function showLogin(text) {
    auth.save(null);
    $('studio-view').hidden = true;
    $('logout').hidden = true;
    $('who-name').hidden = true;
    $('version-badge').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = text || '';
  }
  $('logout').addEventListener('click', function () { showLogin(''); });

  function start() {
    var role = session.role || (session.identity && session.identity.role);
    if (role !== 'staff' && role !== 'supervisor') { showLogin('工作室仅限产品人员和主管使用。The studio is for product staff and supervisors.'); return; }
    $('login-view').hidden = true;
    $('studio-view').hidden = false;
    $('logout').hidden = false;
    $('who-name').hidden = false;
    $('who-name').textContent = session.username || (session.identity && session.identity.username) || '';
    load();
  }
  function username() { return session && (session.username || (session.identity && session.identity.username)) || 'staff'; }

  // ---- loading and the saved draft ---------------------------------------------------------------

  function load(notice) {
    return auth.api('GET', '/api/studio/current').then(function (r) {
      if (r.status !== 200) { if (r.status !== 401) showNotice(auth.problem(r)); return; }
      current = r.body;
      base = clone(current.files);
      draft = clone(current.files);
      var restored = restoreDraft();
      renderBadge();
      renderAll();
      if (current.problems && current.problems.length) {
        showNotice('当前发布的版本与部署的文件不一致，机器人正在使用出厂版本：请修正下列问题后重新发布。The published version no longer passes the checks against the deployed files; the bot runs on the shipped files until you fix the problems below and publish again.');
      } else if (notice) showNotice(notice);
      else if (restored) showNotice(restored);
      else hideNotice();
      scheduleCheck(0);
    });
  }
  function saveDraft() {
    try {
      var changes = draftChanges();
      if (changes.length) localStorage.setItem(DRAFT_KEY + username(), JSON.stringify({ basedOn: versionId(), changes: changes }));
      else localStorage.removeItem(DRAFT_KEY + username());
    } catch (e) { /* private mode: edits live as long as the page */ }
  }
  function clearSavedDraft() { try { localStorage.removeItem(DRAFT_KEY + username()); } catch (e) { /* nothing saved */ } }
  /** Re-applies saved edits (on top of whatever is published now); returns a notice or ''. */
  function restoreDraft() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(DRAFT_KEY + username()) || 'null'); } catch (e) { saved = null; }
    if (!saved || !saved.changes || !saved.changes.length) return '';
    var applied = applyChanges(saved.changes);
    if (!applied) return '';
    return saved.basedOn === versionId()
      ? '已恢复您未发布的 ' + applied + ' 处修改。Restored ' + applied + ' unpublished change(s).'
      : '您的 ' + applied + ' 处未发布修改基于 ' + versionName(saved.basedOn) + '，已应用到当前的 ' + versionName(versionId()) + ' 上，请检查。Your ' + applied + ' unpublished change(s) were made on ' + versionName(saved.basedOn) + ' and have been applied to ' + versionName(versionId()) + '; please review them.';
  }
  function applyChanges(changes) {
    var n = 0;
    changes.forEach(function (c) {
      if (!(c.file in draft) || c.after === undefined) return;
      if (!c.path.length) { draft[c.file] = clone(c.after); n++; return; }
      var parent = getAt(draft[c.file], c.path.slice(0, -1));
      if (parent === null || typeof parent !== 'object') return;
      parent[c.path[c.path.length - 1]] = clone(c.after);
      n++;
    });
    return n;
  }
  function showNotice(text) { $('notice').textContent = text; $('notice').hidden = false; }
  function hideNotice() { $('notice').hidden = true; }
  function renderBadge() {
    var b = $('version-badge');
    b.hidden = false;
    var v = current.version;
    if (v) setText(b, '当前版本 v' + v.id, 'Live: v' + v.id);
    else setText(b, '当前：出厂版本', 'Live: shipped files');
  }

  function renderAll() {
    renderCopy();
    renderPolicy();
    renderChangeCount();
    if (activeTab === 'flows') renderFlows();
    if (activeTab === 'history') loadHistory();
  }

  // ---- tabs --------------------------------------------------------------------------------------

  Array.prototype.forEach.call(document.querySelectorAll('.tabs [role=tab]'), function (tab) {
    tab.addEventListener('click', function () { selectTab(tab.getAttribute('data-tab')); });
  });
  function selectTab(name) {
    activeTab = name;
    Array.prototype.forEach.call(document.querySelectorAll('.tabs [role=tab]'), function (tab) { tab.setAttribute('aria-selected', String(tab.getAttribute('data-tab') === name)); });
    Array.prototype.forEach.call(document.querySelectorAll('.panel'), function (p) { p.hidden = p.getAttribute('data-panel') !== name; });
    if (name === 'flows') renderFlows();
    if (name === 'history') loadHistory();
  }

  // ---- copy --------------------------------------------------------------------------------------

  var LOCALES = ['zh-CN', 'en'];
  function copyFile(locale) { return draft['copy/' + locale + '.json'] || {}; }

  function renderCopy() {
    var rows = $('copy-rows');
    rows.textContent = '';
    var keys = Object.keys(copyFile('zh-CN'));
    Object.keys(copyFile('en')).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); });
    keys.sort();
    keys.forEach(function (key) {
      var tr = el('tr');
      tr.setAttribute('data-key', key);
      var head = el('td');
      head.appendChild(el('div', 'key', key));
      head.appendChild(el('div', 'chips'));
      head.appendChild(el('p', 'row-problem'));
      tr.appendChild(head);
      LOCALES.forEach(function (locale) {
        var td = el('td');
        var area = el('textarea');
        area.setAttribute('data-locale', locale);
        area.setAttribute('aria-label', key + ' ' + locale);
        area.value = copyFile(locale)[key] === undefined ? '' : copyFile(locale)[key];
        area.rows = Math.min(8, Math.max(2, Math.ceil(area.value.length / 48) + (area.value.match(/\n/g) || []).length));
        area.addEventListener('input', function () {
          draft['copy/' + locale + '.json'][key] = area.value;
          updateCopyRow(tr);
          edited();
        });
        td.appendChild(area);
        tr.appendChild(td);
      });
      rows.appendChild(tr);
      updateCopyRow(tr);
    });
    filterCopy();
  }

  /** Marks a row changed, and shows its placeholders: a chip per name, red where the languages differ. */
  function updateCopyRow(tr) {
    var key = tr.getAttribute('data-key');
    var zh = copyFile('zh-CN')[key];
    var en = copyFile('en')[key];
    var pz = placeholdersOf(zh);
    var pe = placeholdersOf(en);
    var chips = tr.querySelector('.chips');
    chips.textContent = '';
    pz.concat(pe.filter(function (p) { return pz.indexOf(p) < 0; })).forEach(function (p) {
      var inBoth = pz.indexOf(p) >= 0 && pe.indexOf(p) >= 0;
      chips.appendChild(el('span', 'chip' + (inBoth ? '' : ' missing'), '{' + p + '}'));
    });
    var local = '';
    if (!zh || !en) local = '两种语言都不能为空。Both languages need a message.';
    else if (!same(pz, pe)) local = '占位符不一致：中文 {' + pz.join('}{') + '}，英文 {' + pe.join('}{') + '}。Placeholders differ between the languages.';
    var server = lastProblems.filter(function (p) { return p.file.indexOf('copy/') === 0 && p.path === key; }).map(function (p) { return p.file + ': ' + p.reason; });
    tr.querySelector('.row-problem').textContent = local || server.join('\n');
    tr.classList.toggle('invalid', Boolean(local || server.length));
    var changed = LOCALES.some(function (l) { return (base['copy/' + l + '.json'] || {})[key] !== copyFile(l)[key]; });
    tr.classList.toggle('changed', changed);
  }

  function filterCopy() {
    var q = $('copy-filter').value.trim().toLowerCase();
    var changedOnly = $('copy-changed').checked;
    var shown = 0;
    Array.prototype.forEach.call($('copy-rows').children, function (tr) {
      var key = tr.getAttribute('data-key');
      var text = key + '\n' + (copyFile('zh-CN')[key] || '') + '\n' + (copyFile('en')[key] || '');
      var visible = (!q || text.toLowerCase().indexOf(q) >= 0) && (!changedOnly || tr.classList.contains('changed'));
      tr.hidden = !visible;
      if (visible) shown++;
    });
    $('copy-count').textContent = shown + ' / ' + $('copy-rows').children.length;
  }
  $('copy-filter').addEventListener('input', filterCopy);
  $('copy-changed').addEventListener('change', filterCopy);

  // ---- policy forms ------------------------------------------------------------------------------

  var FILE_TITLES = {
    'policy/products.json': ['产品与还款方案', 'Products and repayment options'],
    'policy/identity.json': ['身份验证', 'Identity check'],
    'policy/handoff.json': ['转人工', 'Handoff to agents'],
    'policy/contact.json': ['联系规则', 'Contact rules'],
    'lender.json': ['机构信息', 'Lender details'],
    'escalation/rules.json': ['升级规则', 'Escalation rules']
  };
  var LABELS = {
    products: ['产品', 'Products'], name: ['名称', 'Name'], penalty: ['罚息条款', 'Penalty terms'], multiplier: ['罚息倍数', 'Penalty multiplier'],
    capAnnual: ['年化罚息上限', 'Annual penalty cap'], dayBasis: ['计息天数基准', 'Day basis'], compound: ['计复利', 'Compound interest'],
    lateFee: ['滞纳金', 'Late fee'], plans: ['还款方案规则', 'Plan rules'], selfServiceMaxDaysOverdue: ['自助服务最多逾期天数', 'Self-service up to days overdue'],
    installments: ['分期', 'Installments'], counts: ['可选期数', 'Installment counts'], minimumTotal: ['最低总额', 'Minimum total'],
    maxDaysOverdue: ['最多逾期天数', 'Max days overdue'], extension: ['延期', 'Extension'], maxDays: ['最长延期天数', 'Max days'],
    oncePerDays: ['每多少天限一次', 'Once per days'], waiver: ['减免罚息', 'Settlement waiver'], share: ['减免比例', 'Waived share'],
    payWithinDays: ['须在几天内付清', 'Pay within days'], promise: ['承诺还款', 'Promise to pay'], withinDays: ['几天之内', 'Within days'],
    hardshipOrder: ['按困难原因的方案顺序', 'Option order by hardship reason'], job_loss: ['失业', 'Job loss'], illness: ['疾病', 'Illness'],
    income_drop: ['收入下降', 'Income drop'], business_trouble: ['经营困难', 'Business trouble'], other: ['其他', 'Other'], unknown: ['未说明', 'Not given'],
    maxFailedAttempts: ['最多失败次数', 'Max failed attempts'], attemptWindowMinutes: ['失败计数时间窗（分钟）', 'Attempt window (minutes)'],
    lockMinutes: ['锁定时长（分钟）', 'Lock (minutes)'], sessionIdleMinutes: ['闲置多久需重新验证（分钟）', 'Idle before re-verification (minutes)'],
    agentHours: ['人工服务时间', 'Agent hours'], start: ['开始', 'Start'], end: ['结束', 'End'], days: ['星期（1=周一）', 'Weekdays (1 = Monday)'],
    expectedWaitMinutes: ['预计等待（分钟）', 'Expected wait (minutes)'], waitLimitMinutes: ['最长等待（分钟）', 'Wait limit (minutes)'],
    priorities: ['优先级', 'Priorities'], quietHours: ['免打扰时段', 'Quiet hours'], maxPerDay: ['每天最多', 'Max per day'], maxPer7Days: ['每 7 天最多', 'Max per 7 days'],
    hotline: ['客服热线', 'Hotline'], hours: ['服务时间', 'Hours'], repaymentMethods: ['还款方式', 'How to pay'], crisisHotline: ['心理援助热线', 'Crisis line'],
    rules: ['规则', 'Rules'], id: ['编号', 'Id'], priority: ['优先级', 'Priority'], message: ['回复文案键', 'Reply copy key'], times: ['触发次数', 'Times'],
    phrases: ['触发短语', 'Phrases'], nearMisses: ['不应触发的相似说法', 'Near misses (must not fire)'], 'zh-CN': ['中文', 'Chinese'], en: ['英文', 'English']
  };
  function labelOf(key) {
    var l = LABELS[key];
    var f = document.createDocumentFragment();
    if (!l) { f.appendChild(document.createTextNode(String(key))); return f; }
    f.appendChild(t(l[0], l[1]));
    f.appendChild(el('small', '', String(key)));
    return f;
  }
  function policyFiles() {
    var order = Object.keys(FILE_TITLES);
    return Object.keys(draft).filter(function (f) { return f.indexOf('policy/') === 0 || f === 'lender.json' || f === 'escalation/rules.json'; })
      .sort(function (a, b) { return (order.indexOf(a) < 0 ? 99 : order.indexOf(a)) - (order.indexOf(b) < 0 ? 99 : order.indexOf(b)) || (a < b ? -1 : 1); });
  }

  function renderPolicy() {
    var root = $('policy-forms');
    root.textContent = '';
    policyFiles().forEach(function (file) {
      var card = el('section', 'card policy-file');
      card.setAttribute('data-file', file);
      var h = el('h2');
      var title = FILE_TITLES[file];
      if (title) h.appendChild(t(title[0], title[1])); else h.textContent = file;
      h.appendChild(el('small', 'muted', '  ' + file));
      card.appendChild(h);
      renderValue(card, file, [], draft[file]);
      root.appendChild(card);
    });
    markPolicyProblems();
  }

  function isPrimitiveList(v) { return Array.isArray(v) && v.every(function (x) { return typeof x === 'string' || typeof x === 'number'; }); }

  function renderValue(container, file, path, value) {
    if (isObject(value)) {
      var box = container;
      if (path.length) {
        box = el('fieldset');
        var legend = el('legend');
        legend.appendChild(labelOf(path[path.length - 1]));
        box.appendChild(legend);
        container.appendChild(box);
      }
      Object.keys(value).forEach(function (k) {
        if (k === '_comment') return; // notes for developers, not settings
        renderValue(box, file, path.concat([k]), value[k]);
      });
      return;
    }
    if (Array.isArray(value) && !isPrimitiveList(value)) {
      var list = el('fieldset');
      var lg = el('legend');
      lg.appendChild(labelOf(path[path.length - 1]));
      list.appendChild(lg);
      value.forEach(function (item, i) {
        var itemBox = el('fieldset');
        var ilg = el('legend', '', isObject(item) && item.id ? String(item.id) : '#' + (i + 1));
        itemBox.appendChild(ilg);
        if (isObject(item)) Object.keys(item).forEach(function (k) { renderValue(itemBox, file, path.concat([i, k]), item[k]); });
        else renderValue(itemBox, file, path.concat([i]), item);
        list.appendChild(itemBox);
      });
      container.appendChild(list);
      return;
    }
    container.appendChild(fieldFor(file, path, value));
  }

  /** One form field for a value, writing back a value of the same kind (the server checks ranges). */
  function fieldFor(file, path, value) {
    var row = el('div', 'field');
    row.setAttribute('data-file', file);
    row.setAttribute('data-path', path.join('.'));
    var name = el('label', 'name');
    name.appendChild(labelOf(path[path.length - 1]));
    row.appendChild(name);
    var input;
    var read;
    if (typeof value === 'boolean') {
      input = el('input');
      input.type = 'checkbox';
      input.checked = value;
      read = function () { return input.checked; };
    } else if (typeof value === 'number') {
      input = el('input');
      input.type = 'number';
      input.step = 'any';
      input.value = String(value);
      // Left as typed when it is not a number, so the check names the field instead of a silent 0.
      read = function () { var n = Number(input.value); return input.value.trim() !== '' && isFinite(n) ? n : input.value; };
    } else if (Array.isArray(value)) {
      var numbers = value.length > 0 && value.every(function (x) { return typeof x === 'number'; });
      if (numbers || value.every(function (x) { return typeof x === 'string' && x.length < 24 && !/[,\n]/.test(x); }) && value.length < 12) {
        input = el('input');
        input.value = value.join(', ');
        input.placeholder = numbers ? '3, 6, 12' : 'a, b, c';
        read = function () {
          var parts = input.value.split(/[,，\s]+/).filter(Boolean);
          return numbers ? parts.map(function (p) { var n = Number(p); return isFinite(n) ? n : p; }) : parts;
        };
      } else {
        input = el('textarea');
        input.rows = Math.min(8, Math.max(2, value.length));
        input.value = value.join('\n');
        input.placeholder = '每行一项 · one per line';
        read = function () { return input.value.split('\n').map(function (s) { return s.trim(); }).filter(Boolean); };
      }
    } else {
      var long = typeof value === 'string' && value.length > 60;
      input = el(long ? 'textarea' : 'input');
      if (long) input.rows = 3;
      input.value = value === null || value === undefined ? '' : String(value);
      read = function () { return input.value; };
    }
    input.setAttribute('aria-label', file + ' ' + path.join('.'));
    input.addEventListener(input.type === 'checkbox' ? 'change' : 'input', function () {
      setAt(draft[file], path, read());
      row.classList.toggle('changed', !same(getAt(base[file], path), getAt(draft[file], path)));
      edited();
    });
    row.classList.toggle('changed', !same(getAt(base[file], path), value));
    var holder = el('div');
    holder.appendChild(input);
    holder.appendChild(el('p', 'row-problem'));
    row.appendChild(holder);
    return row;
  }

  function markPolicyProblems() {
    Array.prototype.forEach.call(document.querySelectorAll('#policy-forms .field'), function (row) {
      var file = row.getAttribute('data-file');
      var path = row.getAttribute('data-path');
      var mine = lastProblems.filter(function (p) { return p.file === file && (p.path === path || p.path.indexOf(path + '.') === 0); });
      row.classList.toggle('invalid', mine.length > 0);
      row.querySelector('.row-problem').textContent = mine.map(function (p) { return p.reason; }).join('\n');
    });
  }

  // ---- checking as you type ----------------------------------------------------------------------

  function edited() {
    saveDraft();
    renderChangeCount();
    scheduleCheck(CHECK_DELAY_MS);
  }
  function renderChangeCount() {
    var n = draftChanges().length;
    setText($('change-count'), n ? '未发布的修改：' + n + ' 处' : '没有未发布的修改', n ? n + ' unpublished change(s)' : 'No unpublished changes');
    $('publish').disabled = n === 0;
    $('discard').disabled = n === 0;
  }
  function scheduleCheck(delay) {
    clearTimeout(checkTimer);
    setText($('check-status'), '检查中…', 'Checking…');
    $('check-status').className = 'status';
    checkTimer = setTimeout(check, delay);
  }
  function check() {
    var seq = ++checkSeq;
    auth.api('POST', '/api/studio/validate', { files: changedFiles(), basedOn: versionId() }).then(function (r) {
      if (seq !== checkSeq) return; // a newer edit is being checked
      if (r.status !== 200) { showProblems(r.body && r.body.problems ? r.body.problems.map(function (p) { return { file: '', path: '', reason: p }; }) : [{ file: '', path: '', reason: auth.problem(r) }]); return; }
      showProblems(r.body.problems);
    }, function () {
      if (seq === checkSeq) { setText($('check-status'), '无法连接服务器。', 'Cannot reach the server.'); $('check-status').className = 'status bad'; }
    });
  }
  function showProblems(problems) {
    lastProblems = problems;
    var list = $('problems');
    list.textContent = '';
    problems.forEach(function (p) {
      var li = el('li');
      li.appendChild(el('strong', '', p.file + (p.path ? ' › ' + p.path : '')));
      li.appendChild(document.createTextNode('：' + p.reason));
      if (p.file.indexOf('copy/') === 0 && p.path) {
        var go = el('button', '', '→');
        go.type = 'button';
        go.title = '定位 · Show';
        go.addEventListener('click', function () { selectTab('copy'); $('copy-filter').value = p.path; filterCopy(); });
        li.appendChild(go);
      }
      list.appendChild(li);
    });
    var ok = problems.length === 0;
    if (ok) setText($('check-status'), '✓ 草稿通过全部检查', '✓ The draft passes every check');
    else setText($('check-status'), '✗ ' + problems.length + ' 个问题，修正后才能发布', '✗ ' + problems.length + ' problem(s) to fix before publishing');
    $('check-status').className = 'status ' + (ok ? 'ok' : 'bad');
    Array.prototype.forEach.call($('copy-rows').children, updateCopyRow);
    markPolicyProblems();
  }

  // ---- flows -------------------------------------------------------------------------------------

  function loadMermaid() {
    if (window.mermaid) return Promise.resolve(window.mermaid);
    mermaidLoading = mermaidLoading || new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = '/vendor/mermaid.min.js';
      s.onload = function () {
        // Natural size, scrolled and zoomed by the page: a whole conversation flow fitted to the width is unreadable.
        window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral', flowchart: { useMaxWidth: false }, state: { useMaxWidth: false } });
        resolve(window.mermaid);
      };
      s.onerror = function () { mermaidLoading = null; reject(new Error('mermaid')); };
      document.head.appendChild(s);
    });
    return mermaidLoading;
  }
  function renderFlows() {
    var root = $('flows');
    root.textContent = '';
    var flows = (current && current.flows) || [];
    if (!flows.length) { root.appendChild(el('p', 'muted')).appendChild(t('暂无流程文件。', 'No flow files yet.')); return; }
    flows.forEach(function (flow, i) {
      var card = el('section', 'card flow');
      card.setAttribute('data-file', flow.file);
      card.appendChild(el('h2', '', flow.file));
      var zoom = el('div', 'zoom');
      var box = el('div', 'diagram');
      card.appendChild(zoom);
      card.appendChild(box);
      root.appendChild(card);
      if (!flow.diagram) { box.appendChild(t('这个流程暂时无法绘制成图（请查看检查结果）。', 'This flow cannot be drawn yet (see the check results).')); return; }
      box.appendChild(t('正在绘制…', 'Drawing…'));
      loadMermaid().then(function (mermaid) {
        return mermaid.render('flow-diagram-' + i + '-' + Date.now(), flow.diagram).then(function (out) {
          box.innerHTML = out.svg; // sanitised by Mermaid (securityLevel strict)
          zoomControls(zoom, box);
        });
      }).catch(function () {
        box.textContent = '';
        box.appendChild(t('无法加载或绘制图示（web/vendor/mermaid.min.js）。', 'Could not load or draw the diagram (web/vendor/mermaid.min.js).'));
      });
    });
  }

  /** Zoom buttons for a drawn diagram: fit to the width, or 100% and larger, scrolled in its box. */
  function zoomControls(bar, box) {
    var svg = box.querySelector('svg');
    if (!svg) return;
    var natural = (svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width) || svg.getBoundingClientRect().width || 1000;
    var scale = 1;
    function apply() {
      svg.style.maxWidth = 'none';
      svg.style.width = Math.round(natural * scale) + 'px';
      svg.style.height = 'auto';
      label.textContent = Math.round(scale * 100) + '%';
    }
    function button(zh, en, onClick) {
      var b = el('button');
      b.type = 'button';
      b.appendChild(t(zh, en));
      b.addEventListener('click', function () { onClick(); apply(); });
      bar.appendChild(b);
    }
    button('缩小', 'Zoom out', function () { scale = Math.max(0.1, scale / 1.25); });
    button('放大', 'Zoom in', function () { scale = Math.min(4, scale * 1.25); });
    button('适应宽度', 'Fit width', function () { scale = Math.max(0.1, (box.clientWidth - 8) / natural); });
    button('原始大小', 'Actual size', function () { scale = 1; });
    var label = el('span', 'muted');
    bar.appendChild(label);
    // The whole shape first; zoom in for the labels.
    scale = Math.min(1, Math.max(0.1, (box.clientWidth - 8) / natural));
    apply();
  }

  // ---- history, diff, rollback -------------------------------------------------------------------

  function loadHistory() {
    auth.api('GET', '/api/studio/versions').then(function (r) {
      if (r.status !== 200) return;
      var list = $('history');
      list.textContent = '';
      var latest = versionId();
      r.body.versions.forEach(function (v) { list.appendChild(historyItem(v, latest)); });
      list.appendChild(historyItem(null, latest));
    });
  }
  function historyItem(v, latest) {
    var li = el('li');
    var id = v ? v.id : null;
    li.setAttribute('data-version', v ? String(v.id) : 'shipped');
    if (id === latest) li.classList.add('current');
    var head = el('div', 'head');
    head.appendChild(el('strong', '', v ? 'v' + v.id : ''));
    if (!v) head.appendChild(t('出厂版本（部署自带的文件）', 'Shipped files (as deployed)'));
    else {
      head.appendChild(v.action === 'rollback' ? t('回滚到 ' + versionName(v.basedOn), 'Rollback to ' + versionName(v.basedOn)) : t('发布', 'Publish'));
      head.appendChild(el('span', 'muted', v.author.replace(/^staff:/, '') + ' · ' + when(v.createdAt)));
    }
    if (id === latest) head.appendChild(el('span', 'badge')).appendChild(t('生效中', 'Live'));
    li.appendChild(head);
    if (v) {
      li.appendChild(el('div', '', v.comment));
      var changed = el('div', 'muted');
      changed.appendChild(t('修改 ' + v.changed.length + ' 处：', v.changed.length + ' change(s): '));
      changed.appendChild(document.createTextNode(v.changed.slice(0, 4).join('；') + (v.changed.length > 4 ? ' …' : '')));
      li.appendChild(changed);
    }
    var actions = el('div', 'actions');
    if (v) {
      var diff = el('button', 'diff-button');
      diff.type = 'button';
      diff.appendChild(t('查看差异', 'Show diff'));
      diff.addEventListener('click', function () { showDiff(v.previous, v.id); });
      actions.appendChild(diff);
    }
    if (id !== latest) {
      var rb = el('button', 'rollback');
      rb.type = 'button';
      rb.appendChild(t('回滚到此版本', 'Roll back to this'));
      rb.addEventListener('click', function () { rollbackForm(li, id, latest); });
      actions.appendChild(rb);
    }
    li.appendChild(actions);
    return li;
  }
  function rollbackForm(li, to, latest) {
    if (li.querySelector('form')) return;
    var form = el('form', 'rollback-form');
    var input = el('input');
    input.required = true;
    input.maxLength = 500;
    input.placeholder = '回滚原因（必填） · Why (required)';
    input.setAttribute('aria-label', '回滚原因 · Why');
    var go = el('button', 'primary');
    go.type = 'submit';
    go.appendChild(t('确认回滚', 'Confirm rollback'));
    var status = el('p', 'error');
    form.appendChild(input);
    form.appendChild(go);
    form.appendChild(status);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      go.disabled = true;
      auth.api('POST', '/api/studio/rollback', { to: to, comment: input.value, latest: latest }).then(function (r) {
        go.disabled = false;
        if (r.status === 201) {
          load('已回滚：' + versionName(r.body.version.id) + ' 恢复了 ' + versionName(to) + ' 的内容。Rolled back: ' + versionName(r.body.version.id) + ' restores ' + versionName(to) + '.').then(loadHistory);
          return;
        }
        status.textContent = auth.problem(r);
        if (r.status === 409) loadHistory();
      });
    });
    li.appendChild(form);
    input.focus();
  }
  function showDiff(from, to) {
    var q = '?from=' + (from === null ? 'shipped' : from) + '&to=' + (to === null ? 'shipped' : to);
    auth.api('GET', '/api/studio/diff' + q).then(function (r) {
      if (r.status !== 200) return;
      $('diff').hidden = false;
      setText($('diff-title'), versionName(from) + ' → ' + versionName(to) + '：' + r.body.changes.length + ' 处修改', versionName(from) + ' → ' + versionName(to) + ': ' + r.body.changes.length + ' change(s)');
      var rows = $('diff-rows');
      rows.textContent = '';
      r.body.changes.forEach(function (c) {
        var tr = el('tr');
        tr.appendChild(el('td', 'key', c.file + (c.path ? ' › ' + c.path : '')));
        tr.appendChild(el('td', 'before', shortValue(c.before)));
        tr.appendChild(el('td', 'after', shortValue(c.after)));
        rows.appendChild(tr);
      });
      $('diff').scrollIntoView({ block: 'nearest' });
    });
  }

  // ---- publish -----------------------------------------------------------------------------------

  $('publish').addEventListener('click', function () {
    var status = $('publish-status');
    status.className = 'status';
    if (!$('publish-comment').value.trim()) { setText(status, '请写明修改了什么、为什么。', 'Please say what changed and why.'); status.className = 'status bad'; $('publish-comment').focus(); return; }
    $('publish').disabled = true;
    auth.api('POST', '/api/studio/publish', { files: changedFiles(), comment: $('publish-comment').value, basedOn: versionId() }).then(function (r) {
      $('publish').disabled = false;
      $('rebase').hidden = true;
      if (r.status === 201) {
        clearSavedDraft();
        $('publish-comment').value = '';
        setText(status, '✓ 已发布 v' + r.body.version.id + '，新对话轮次立即生效。', '✓ Published v' + r.body.version.id + '; it applies to new turns now.');
        status.className = 'status ok';
        load();
        return;
      }
      status.className = 'status bad';
      if (r.status === 409) { status.textContent = auth.problem(r); $('rebase').hidden = false; return; }
      if (r.body && r.body.error === 'invalid_dialogs') { showProblems(r.body.problems); setText(status, '草稿有问题，未发布。', 'The draft has problems; nothing was published.'); return; }
      status.textContent = auth.problem(r);
    }, function () { $('publish').disabled = false; setText(status, '无法连接服务器。', 'Cannot reach the server.'); status.className = 'status bad'; });
  });
  // Someone published meanwhile: take their version and lay this draft's changes over it.
  $('rebase').addEventListener('click', function () {
    $('rebase').hidden = true;
    load().then(function () { setText($('publish-status'), '已载入最新版本，您的修改已保留，请检查后再发布。', 'Loaded the latest version with your changes kept; review and publish again.'); });
  });
  $('discard').addEventListener('click', function () {
    clearSavedDraft();
    draft = clone(base);
    renderAll();
    scheduleCheck(0);
    $('publish-status').textContent = '';
  });

  // ---- preview chat ------------------------------------------------------------------------------

  function newSession() { return 's' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8); }
  function bubble(cls, text) {
    var li = el('li', 'bubble ' + cls);
    // Markdown-light: **bold** shown as bold, everything else as text.
    String(text).split(/(\*\*[^*]+\*\*)/).forEach(function (part) {
      if (/^\*\*[^*]+\*\*$/.test(part)) li.appendChild(el('strong', '', part.slice(2, -2)));
      else if (part) li.appendChild(document.createTextNode(part));
    });
    $('preview-log').appendChild(li);
    $('preview-log').scrollTop = $('preview-log').scrollHeight;
  }
  function previewTurn(text) {
    previewSession = previewSession || newSession();
    $('preview-error').textContent = '';
    if (text !== undefined) bubble('me', text);
    var body = { files: changedFiles(), basedOn: versionId(), session: previewSession, locale: $('preview-locale').value };
    if (text !== undefined) body.text = text;
    return auth.api('POST', '/api/studio/preview', body).then(function (r) {
      if (r.status !== 200) {
        $('preview-error').textContent = r.body && r.body.error === 'invalid_dialogs' ? '草稿有问题，先修正再试聊。Fix the draft\'s problems to try it.' : auth.problem(r);
        return;
      }
      Array.prototype.forEach.call(document.querySelectorAll('#preview-log .suggested'), function (s) { s.remove(); });
      r.body.replies.forEach(function (reply) {
        bubble('bot', reply.text);
        if (reply.actions.length) {
          var li = el('li', 'suggested');
          reply.actions.forEach(function (a) {
            var b = el('button', '', a.title);
            b.type = 'button';
            b.addEventListener('click', function () { previewTurn(a.value); });
            li.appendChild(b);
          });
          $('preview-log').appendChild(li);
        }
      });
      $('preview-log').scrollTop = $('preview-log').scrollHeight;
    }, function () { $('preview-error').textContent = '无法连接服务器。Cannot reach the server.'; });
  }
  $('preview-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('preview-input').value.trim();
    if (!text) return;
    $('preview-input').value = '';
    previewTurn(text);
  });
  $('preview-restart').addEventListener('click', function () {
    previewSession = newSession();
    $('preview-log').textContent = '';
    previewTurn();
  });
  $('preview-locale').addEventListener('change', function () { $('preview-restart').click(); });

  // ---- start -------------------------------------------------------------------------------------

  if (session) start(); else showLogin('');
})();
