// The sign-in the staff pages share (agent console, reports, studio): one session in
// sessionStorage for all three, JSON calls with its token, and the login form (ids login-form,
// login-username, login-password, login-error on every page). Load before the page's script.
(function () {
  'use strict';
  var KEY = 'repayment-assistant.agent-session';
  var LOGIN = '/api/agent/login';
  var EXPIRED = '会话已过期，请重新登录。Your session has expired; please log in again.';

  /**
   * options.onChange(session | null): keeps the page's copy; called at once with the stored session.
   * options.onLogin(): after a successful sign-in.
   * options.onExpired(message): a call answered 401 (the session ended on the server); optional.
   * options.checkExpiry: also ignore a stored session whose expiresAt has passed on this machine.
   */
  window.staffSession = function (options) {
    var session = null;
    var $ = function (id) { return document.getElementById(id); };

    function read() {
      try {
        var s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
        return s && s.token && (!options.checkExpiry || Date.parse(s.expiresAt) > Date.now()) ? s : null;
      } catch (e) {
        return null; // storage blocked or garbled: log in again
      }
    }
    function save(s) {
      session = s;
      try {
        if (s) sessionStorage.setItem(KEY, JSON.stringify(s)); else sessionStorage.removeItem(KEY);
      } catch (e) { /* storage may be blocked; the session then lasts as long as the page */ }
      options.onChange(s);
    }
    /** fetch with the session's token (the raw Response, e.g. for a download). */
    function request(method, path, body) {
      var headers = { Accept: 'application/json' };
      if (session) headers.Authorization = 'Bearer ' + session.token;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
    }
    /** JSON in and out; resolves { status, body }. */
    function api(method, path, body) {
      return request(method, path, body).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (json) {
          if (res.status === 401 && path !== LOGIN && options.onExpired) options.onExpired(EXPIRED);
          return { status: res.status, body: json };
        });
      });
    }
    function problem(r) { return (r.body && r.body.message) || ('HTTP ' + r.status); }

    $('login-form').addEventListener('submit', function (e) {
      e.preventDefault();
      $('login-error').textContent = '';
      api('POST', LOGIN, { username: $('login-username').value, password: $('login-password').value }).then(function (r) {
        if (r.status !== 200) { $('login-error').textContent = r.status === 401 ? '用户名或密码错误。Wrong username or password.' : problem(r); return; }
        $('login-password').value = '';
        save(r.body);
        options.onLogin();
      }, function () { $('login-error').textContent = '无法连接服务器。Cannot reach the server.'; });
    });

    session = read();
    options.onChange(session);
    return { save: save, request: request, api: api, problem: problem };
  };
})();
