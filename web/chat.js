// The borrower page: starts a conversation on the bot's own Direct Line endpoint and renders
// Bot Framework Web Chat (web/vendor/webchat.js, which defines window.WebChat).
(function () {
  'use strict';

  var DOMAIN = location.origin + '/v3/directline';
  var STORAGE_KEY = 'repayment-assistant.locale';
  var STRINGS = {
    'zh-CN': {
      htmlLang: 'zh-CN',
      connecting: '正在连接…',
      failed: '暂时无法连接，请稍后重试。',
      retry: '重试',
      privacy: '我们绝不会索要您的密码或完整身份证号码。'
    },
    'en-US': {
      htmlLang: 'en',
      connecting: 'Connecting…',
      failed: 'We could not connect. Please try again in a moment.',
      retry: 'Try again',
      privacy: 'We will never ask for your password or your full ID number.'
    }
  };

  var chat = document.getElementById('chat');
  var current = null; // { directLine } of the running conversation
  var generation = 0; // ignores a start that a later language switch has superseded

  function initialLocale() {
    var saved = null;
    try { saved = localStorage.getItem(STORAGE_KEY); } catch (e) { /* storage may be blocked */ }
    if (saved && STRINGS[saved]) return saved;
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    return /^zh/i.test(langs[0] || '') ? 'zh-CN' : 'en-US';
  }

  function applyLocale(locale) {
    var s = STRINGS[locale];
    document.documentElement.lang = s.htmlLang;
    document.querySelectorAll('[data-i18n]').forEach(function (el) {
      el.textContent = s[el.getAttribute('data-i18n')];
    });
    document.querySelectorAll('.lang button').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-locale') === locale));
    });
  }

  function showStatus(locale, key, withRetry) {
    var p = document.createElement('p');
    p.className = 'status';
    p.id = 'status';
    p.textContent = STRINGS[locale][key];
    if (withRetry) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = STRINGS[locale].retry;
      b.addEventListener('click', function () { start(locale); });
      p.appendChild(document.createElement('br'));
      p.appendChild(b);
    }
    chat.replaceChildren(p);
  }

  function blobToDataUrl(url) {
    return fetch(url).then(function (r) { return r.blob(); }).then(function (blob) {
      return new Promise(function (resolve, reject) {
        var reader = new FileReader();
        reader.onload = function () { resolve(reader.result); };
        reader.onerror = function () { reject(reader.error); };
        reader.readAsDataURL(blob);
      });
    });
  }

  // The Direct Line client sends files to an /upload route as multipart. Our endpoint takes
  // proofs of payment as data: URLs inside the activity instead (the bot accepts data: URLs), so
  // activities with attachments are posted here as JSON. Web Chat only needs an observable-like
  // result that emits the activity id.
  function inlineAttachments(directLine) {
    var post = directLine.postActivity.bind(directLine);
    directLine.postActivity = function (activity) {
      if (!activity.attachments || !activity.attachments.length) return post(activity);
      return {
        subscribe: function (observerOrNext, onError, onComplete) {
          var o = typeof observerOrNext === 'function'
            ? { next: observerOrNext, error: onError, complete: onComplete }
            : observerOrNext || {};
          var closed = false;
          Promise.all(activity.attachments.map(function (a) {
            return blobToDataUrl(a.contentUrl).then(function (dataUrl) {
              return { contentType: a.contentType, contentUrl: dataUrl, name: a.name };
            });
          })).then(function (attachments) {
            var body = Object.assign({}, activity, { attachments: attachments });
            return fetch(DOMAIN + '/conversations/' + encodeURIComponent(directLine.conversationId) + '/activities', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + directLine.token },
              body: JSON.stringify(body)
            });
          }).then(function (res) {
            if (!res.ok) throw new Error('send failed: HTTP ' + res.status);
            return res.json();
          }).then(function (result) {
            if (closed) return;
            if (o.next) o.next(result.id);
            if (o.complete) o.complete();
          }, function (err) {
            if (!closed && o.error) o.error(err);
          });
          return { unsubscribe: function () { closed = true; } };
        }
      };
    };
    return directLine;
  }

  function styleOptions() {
    return {
      accent: '#1f6f6b',
      backgroundColor: '#ffffff',
      primaryFont: getComputedStyle(document.documentElement).fontFamily,
      bubbleBackground: '#f1f5f4',
      bubbleBorderWidth: 0,
      bubbleBorderRadius: 12,
      bubbleTextColor: '#1d2b2a',
      bubbleFromUserBackground: '#1f6f6b',
      bubbleFromUserBorderWidth: 0,
      bubbleFromUserBorderRadius: 12,
      bubbleFromUserTextColor: '#ffffff',
      bubbleMaxWidth: 560,
      suggestedActionLayout: 'flow',
      suggestedActionBorderRadius: 999,
      suggestedActionBackgroundColor: '#ffffff',
      suggestedActionBorderColor: '#1f6f6b',
      suggestedActionTextColor: '#1f6f6b',
      sendBoxBorderTop: '1px solid #dbe3e1',
      uploadAccept: 'image/jpeg,image/png,application/pdf',
      uploadMultiple: false,
      rootHeight: '100%'
    };
  }

  function start(locale) {
    var mine = ++generation;
    if (current) {
      // Stops the old conversation's polling; its view is replaced below.
      try { current.directLine.end(); } catch (e) { /* already ended */ }
      current = null;
    }
    try { localStorage.setItem(STORAGE_KEY, locale); } catch (e) { /* storage may be blocked */ }
    applyLocale(locale);
    showStatus(locale, 'connecting', false);

    fetch(DOMAIN + '/conversations', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ locale: locale })
    }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (conversation) {
      if (mine !== generation) return;
      var directLine = inlineAttachments(window.WebChat.createDirectLine({
        domain: DOMAIN,
        webSocket: false,
        pollingInterval: 500,
        token: conversation.token
      }));
      current = { directLine: directLine };
      var host = document.createElement('div');
      host.className = 'webchat';
      chat.replaceChildren(host);
      window.WebChat.renderWebChat({
        directLine: directLine,
        locale: locale,
        styleOptions: styleOptions()
      }, host);
    }).catch(function () {
      if (mine === generation) showStatus(locale, 'failed', true);
    });
  }

  document.querySelectorAll('.lang button').forEach(function (b) {
    b.addEventListener('click', function () {
      var locale = b.getAttribute('data-locale');
      if (b.getAttribute('aria-pressed') !== 'true' || !current) start(locale);
    });
  });

  if (!window.WebChat) {
    var locale = initialLocale();
    applyLocale(locale);
    showStatus(locale, 'failed', false);
    return;
  }
  start(initialLocale());
})();
