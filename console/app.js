// scimd admin console: plain JavaScript, no build step, no third-party code.
//
// The page calls the SCIM API (/scim/v2) and the admin API (/admin/v1) of the server that served
// it, with the bearer token the user typed in. The token lives in sessionStorage only (never in a
// URL or a cookie). Every piece of data reaches the DOM through textContent / createElement, never
// as parsed HTML, and nothing here needs 'unsafe-inline' or 'unsafe-eval' (CSP default-src 'self').
'use strict';

(function () {
  const TOKEN_KEY = 'scimd.console.token';
  const TENANT_KEY = 'scimd.console.tenant';
  const PAGE_SIZE = 25;
  const SYNC_REFRESH_MS = 4000;

  // ---------------------------------------------------------------------------------------------
  // State

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    tenant: sessionStorage.getItem(TENANT_KEY) || '', // operator's picked tenant ('' = all)
    operator: false,
    tenants: [],
    generation: 0, // bumped on every navigation: stale async results are dropped
    timers: [],
  };

  // ---------------------------------------------------------------------------------------------
  // DOM helpers

  // h('tag', {attr: value, class: 'x', testid: 'y', on: {click: fn}}, child, ...)
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') el.className = value;
        else if (key === 'testid') el.setAttribute('data-testid', value);
        else if (key === 'text') el.textContent = value;
        else if (key === 'on') {
          for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
        } else if (key === 'value') el.value = value;
        else if (key === 'checked' || key === 'disabled' || key === 'hidden') el[key] = !!value;
        else el.setAttribute(key, value === true ? '' : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      if (Array.isArray(child)) append(el, child);
      else if (child instanceof Node) el.appendChild(child);
      else el.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function $(id) {
    return document.getElementById(id);
  }

  // The integer in `text`, or `fallback`, kept within [min, max].
  function clampInt(text, fallback, min, max) {
    const n = parseInt(text || '', 10);
    return isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
  }

  function fmtTime(value) {
    if (!value) return '—';
    const text = String(value);
    const m = text.match(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/);
    return m ? `${m[1]} ${m[2]}${/Z$|[+-]00:?00$/.test(text) ? ' UTC' : ''}` : text;
  }

  function timeCell(value) {
    return h('td', { class: 'time', title: value ? String(value) : null }, fmtTime(value));
  }

  function errorCell(text) {
    return text ? h('td', { class: 'last-error' }, String(text)) : h('td', { class: 'muted' }, '—');
  }

  function fmtAge(seconds) {
    if (seconds === null || seconds === undefined || seconds === '') return '—';
    let s = Number(seconds);
    if (!isFinite(s)) return String(seconds);
    if (s < 60) return `${Math.round(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  function shortEvent(event) {
    // urn:ietf:params:scim:event:prov:create:full -> create:full
    const text = String(event || '');
    const i = text.indexOf(':prov:');
    return i >= 0 ? text.slice(i + 6) : text;
  }

  function scalar(value) {
    if (value === null || value === undefined) return '—';
    if (typeof value === 'object') return JSON.stringify(value);
    return String(value);
  }

  // A polite live region for "Sync queued", "Retried", ... messages.
  function notice(el, text, kind) {
    el.className = 'notice ' + (kind || 'ok');
    el.textContent = text;
    el.hidden = !text;
  }

  // ---------------------------------------------------------------------------------------------
  // API

  class ApiError extends Error {
    constructor(status, detail, body) {
      super(detail);
      this.status = status;
      this.detail = detail;
      this.body = body;
    }
  }

  // The operator's picked tenant goes on every admin and SCIM call (scimd ignores `tenant=` from
  // anyone else).
  function withTenant(path) {
    if (!state.operator || !state.tenant) return path;
    if (!path.startsWith('/admin/') && !path.startsWith('/scim/')) return path;
    if (path.startsWith('/admin/v1/tenants')) return path;
    return path + (path.includes('?') ? '&' : '?') + 'tenant=' + encodeURIComponent(state.tenant);
  }

  async function api(method, path, body, options) {
    const opts = options || {};
    const headers = { Accept: 'application/scim+json, application/json' };
    headers.Authorization = 'Bearer ' + (opts.token || state.token);
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = path.startsWith('/scim/') ? 'application/scim+json'
                                                          : 'application/json';
      payload = JSON.stringify(body);
    }
    const url = opts.noTenant ? path : withTenant(path);
    let resp;
    try {
      resp = await fetch(url, { method, headers, body: payload, cache: 'no-store',
                                credentials: 'omit', redirect: 'error' });
    } catch (err) {
      throw new ApiError(0, 'The server could not be reached (' + err.message + ').', null);
    }
    const text = await resp.text();
    let json = null;
    if (text) {
      try { json = JSON.parse(text); } catch (e) { json = null; }
    }
    if (!resp.ok) {
      let detail = '';
      if (json && typeof json === 'object') {
        detail = json.detail || json.message || json.error || '';
      }
      if (!detail) detail = resp.statusText || ('HTTP ' + resp.status);
      const err = new ApiError(resp.status, String(detail), json);
      if (resp.status === 401 && !opts.login) sessionExpired(err);
      throw err;
    }
    return json;
  }

  function errorText(err) {
    if (err instanceof ApiError) {
      if (err.status === 0) return err.detail;
      let hint = '';
      if (err.status === 403) hint = ' (this token lacks the scope for it)';
      if (err.status === 404 && !err.body) hint = ' (this server does not offer it)';
      return `Error ${err.status}: ${err.detail}${hint}`;
    }
    return 'Error: ' + (err && err.message ? err.message : String(err));
  }

  function errorBox(err, what) {
    return h('p', { class: 'error', role: 'alert', testid: 'error' },
             (what ? what + ' — ' : '') + errorText(err));
  }

  // ---------------------------------------------------------------------------------------------
  // Session

  function showLogin(message) {
    stopTimers();
    $('nav').hidden = true;
    $('session').hidden = true;
    $('tenant-info').hidden = true;
    $('app-view').hidden = true;
    clear($('app-view'));
    $('login-view').hidden = false;
    const error = $('login-error');
    error.textContent = message || '';
    error.hidden = !message;
    $('token-input').focus();
  }

  function sessionExpired(err) {
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(`The server rejected the token (401: ${err.detail}). Log in again.`);
  }

  async function login(token) {
    // A token is good for the console when it may read the admin API.
    try {
      await api('GET', '/admin/v1/sync/status', undefined, { token, login: true, noTenant: true });
    } catch (err) {
      if (err.status === 401) throw new Error(`Token not accepted (401: ${err.detail}).`);
      if (err.status === 403) {
        throw new Error(`This token lacks the admin scope (403: ${err.detail}).`);
      }
      throw new Error(errorText(err));
    }
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
  }

  function logout() {
    stopTimers();
    state.token = '';
    state.tenant = '';
    state.operator = false;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(TENANT_KEY);
    $('token-input').value = '';
    showLogin('');
  }

  async function startSession() {
    $('login-view').hidden = true;
    $('nav').hidden = false;
    $('session').hidden = false;
    $('app-view').hidden = false;
    await detectOperator();
    await loadTenantInfo();
    if (!location.hash || location.hash === '#' || location.hash === '#/') {
      location.replace('#/users');
    } else {
      route(true);
    }
  }

  async function detectOperator() {
    const slot = $('tenant-picker-slot');
    clear(slot);
    state.operator = false;
    state.tenants = [];
    let body;
    try {
      body = await api('GET', '/admin/v1/tenants', undefined, { noTenant: true });
    } catch (err) {
      return; // 403 for a tenant admin, 404 on a server without tenants: no picker
    }
    state.operator = true;
    state.tenants = (body && (body.tenants || body.entries)) || [];
    const select = h('select', { id: 'tenant-picker', testid: 'tenant-picker',
                                 on: { change: onTenantPicked } },
                     h('option', { value: '' }, 'All tenants'));
    for (const t of state.tenants) {
      const name = typeof t === 'string' ? t : t.name;
      const label = typeof t === 'string' ? t
        : (t.display_name && t.display_name !== name ? `${name} (${t.display_name})` : name) +
          (t.disabled || t.status === 'disabled' ? ' — disabled' : '');
      select.appendChild(h('option', { value: name }, label));
    }
    if (state.tenant && !state.tenants.some((t) => (t.name || t) === state.tenant)) {
      state.tenant = '';
    }
    select.value = state.tenant;
    append(slot, [h('label', { for: 'tenant-picker', class: 'inline-label' }, 'Tenant'), select]);
  }

  function onTenantPicked(ev) {
    state.tenant = ev.target.value;
    if (state.tenant) sessionStorage.setItem(TENANT_KEY, state.tenant);
    else sessionStorage.removeItem(TENANT_KEY);
    loadTenantInfo();
    route(false);
  }

  async function loadTenantInfo() {
    const box = $('tenant-info');
    clear(box);
    if (state.operator && !state.tenant) {
      box.hidden = false;
      append(box, [h('span', null, h('strong', null, 'Operator'),
                     ': all tenants (pick one to narrow the admin views).'),
                   tenantSummaryList()]);
      return;
    }
    let info;
    try {
      info = await api('GET', '/admin/v1/tenant');
    } catch (err) {
      if (err.status === 404 && !err.body) { box.hidden = true; return; }
      box.hidden = false;
      box.appendChild(errorBox(err, 'Tenant'));
      return;
    }
    box.hidden = false;
    const t = (info && info.tenant && typeof info.tenant === 'object') ? info.tenant : info || {};
    box.appendChild(h('strong', { testid: 'tenant-name' },
                      'Tenant ' + (t.name || t.tenant || state.tenant || '')));
    const facts = [];
    const labels = [['users', 'users'], ['active_users', 'active'], ['groups', 'groups'],
                    ['pending_deliveries', 'pending'], ['failed_deliveries', 'failed'],
                    ['last_sync', 'last sync'], ['last_sync_status', 'last sync status']];
    for (const [key, label] of labels) {
      if (t[key] === undefined) continue;
      const v = key === 'last_sync' ? fmtTime(t[key]) : scalar(t[key]);
      facts.push(h('span', { class: 'fact' }, `${label}: `, h('b', null, v)));
    }
    if (t.display_name && t.display_name !== t.name) facts.unshift(h('span', null, t.display_name));
    if (t.disabled) facts.push(h('span', { class: 'badge bad' }, 'disabled'));
    append(box, facts);
  }

  function tenantSummaryList() {
    if (!state.tenants.length) return 'No tenants yet.';
    return h('span', { class: 'facts' }, state.tenants.map((t) => {
      if (typeof t === 'string') return h('span', { class: 'fact' }, t);
      return h('span', { class: 'fact' }, h('b', null, t.name), ` users ${scalar(t.users)}`,
               t.groups !== undefined ? `, groups ${scalar(t.groups)}` : '');
    }));
  }

  // ---------------------------------------------------------------------------------------------
  // Routing

  function stopTimers() {
    for (const t of state.timers) clearInterval(t);
    state.timers = [];
  }

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    const [pathPart, queryPart] = raw.split('?');
    const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
    return { parts, query: new URLSearchParams(queryPart || '') };
  }

  function hashFor(parts, query) {
    const q = query ? new URLSearchParams(query).toString() : '';
    return '#/' + parts.map(encodeURIComponent).join('/') + (q ? '?' + q : '');
  }

  function route(focus) {
    if (!state.token) return;
    stopTimers();
    state.generation += 1;
    const { parts, query } = parseHash();
    const view = $('app-view');
    clear(view);
    const section = parts[0] || 'users';
    for (const a of document.querySelectorAll('#nav a')) {
      const target = a.getAttribute('href').slice(2);
      const current = target === section || (target === 'users' && section === 'groups');
      if (current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    let render;
    if ((section === 'users' || section === 'groups') && parts[1]) {
      render = () => resourceView(view, section, parts[1]);
    } else if (section === 'users' || section === 'groups') {
      render = () => listView(view, section, query);
    } else if (section === 'sync') {
      render = () => syncView(view);
    } else if (section === 'audit') {
      render = () => auditView(view, query);
    } else if (section === 'keys') {
      render = () => keysView(view);
    } else {
      render = () => view.appendChild(h('section', null, h('h1', { tabindex: '-1' }, 'Not found'),
        h('p', null, 'No such page. '), h('a', { href: '#/users' }, 'Go to users')));
    }
    render();
    if (focus !== false) {
      const heading = view.querySelector('h1');
      if (heading) heading.focus({ preventScroll: false });
    }
  }

  // Runs fn only if no navigation happened since `generation` was taken.
  function current(generation) {
    return generation === state.generation;
  }

  // ---------------------------------------------------------------------------------------------
  // Users and Groups

  function listView(view, kind, query) {
    const gen = state.generation;
    const isUsers = kind === 'users';
    const filter = query.get('filter') || '';
    const start = Math.max(1, parseInt(query.get('start') || '1', 10) || 1);
    const size = clampInt(query.get('count'), PAGE_SIZE, 1, 200);
    const keep = query.get('count') ? { count: String(size) } : {};

    const title = h('h1', { tabindex: '-1' }, isUsers ? 'Users' : 'Groups');
    const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': 'Resource type' },
      h('a', { href: '#/users', class: 'tab', 'aria-current': isUsers ? 'page' : null }, 'Users'),
      h('a', { href: '#/groups', class: 'tab', 'aria-current': isUsers ? null : 'page' },
        'Groups'));

    const input = h('input', { id: 'filter-input', testid: 'filter-input', type: 'search',
                               value: filter, spellcheck: 'false', autocomplete: 'off',
                               placeholder: isUsers ? 'userName sw "a" and active eq true'
                                                    : 'displayName co "sales"',
                               'aria-describedby': 'filter-help' });
    const applyFilter = (ev) => {
      if (ev) ev.preventDefault();
      const q = Object.assign({}, keep);
      if (input.value.trim()) q.filter = input.value.trim();
      const next = hashFor([kind], q);
      if (next === location.hash) route(false);
      else location.hash = next;
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') applyFilter(ev);
    });
    const form = h('form', { class: 'filter-form', on: { submit: applyFilter } },
      h('label', { for: 'filter-input' }, 'SCIM filter'), input,
      h('button', { type: 'submit' }, 'Apply'),
      filter ? h('button', { type: 'button', on: { click: () => { input.value = '';
                                                                  applyFilter(); } } },
                 'Clear') : null,
      h('p', { id: 'filter-help', class: 'help' },
        'RFC 7644 filter, e.g. ',
        h('code', null, isUsers ? 'userName eq "ada@example.com"' : 'displayName sw "Eng"'),
        '. Press Enter to apply.'));

    const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
    const tableSlot = h('div');
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
    const scopeNote = state.operator && !state.tenant
      ? h('p', { class: 'help', testid: 'operator-scim-note' }, 'These are the operator token’s ' +
          'own tenant’s; pick a tenant at the top to see another’s.')
      : null;
    view.appendChild(h('section', null, title, tabs, scopeNote, form, status, tableSlot, pager));

    const params = new URLSearchParams({ startIndex: String(start), count: String(size),
                                         sortBy: isUsers ? 'userName' : 'displayName' });
    if (filter) params.set('filter', filter);
    if (!isUsers) params.set('excludedAttributes', 'members');
    api('GET', `/scim/v2/${isUsers ? 'Users' : 'Groups'}?${params}`).then((body) => {
      if (!current(gen)) return;
      const resources = (body && body.Resources) || [];
      const total = body && typeof body.totalResults === 'number' ? body.totalResults
                                                                   : resources.length;
      if (!resources.length) {
        status.textContent = filter ? `No ${kind} match this filter.`
          : (start > 1 ? `No ${kind} on this page.` : `No ${kind} yet.`);
        status.setAttribute('data-testid', 'empty');
      } else {
        status.textContent = `${total} ${kind}; showing ${start}–${start + resources.length - 1}.`;
      }
      if (resources.length) {
        tableSlot.appendChild(isUsers ? usersTable(resources) : groupsTable(resources));
      }
      const q = Object.assign({}, keep, filter ? { filter } : {});
      if (start > 1) {
        pager.appendChild(h('a', { class: 'button', testid: 'previous-page', href: hashFor([kind],
          Object.assign({}, q, { start: String(Math.max(1, start - size)) })) }, '← Previous'));
      }
      if (start + resources.length - 1 < total && resources.length) {
        pager.appendChild(h('a', { class: 'button', testid: 'next-page', href: hashFor([kind],
          Object.assign({}, q, { start: String(start + resources.length) })) }, 'Next →'));
      }
    }).catch((err) => {
      if (!current(gen)) return;
      status.textContent = '';
      tableSlot.appendChild(errorBox(err, isUsers ? 'Users' : 'Groups'));
    });
  }

  function rowLink(tr, href) {
    tr.classList.add('clickable');
    tr.addEventListener('click', (ev) => {
      if (ev.target.closest('a, button')) return;
      location.hash = href;
    });
  }

  function usersTable(users) {
    const tbody = h('tbody');
    for (const u of users) {
      const href = hashFor(['users', u.id]);
      const email = (u.emails || []).find((e) => e.primary) || (u.emails || [])[0];
      const name = u.name ? (u.name.formatted ||
        [u.name.givenName, u.name.familyName].filter(Boolean).join(' ')) : '';
      const tr = h('tr', { testid: 'user-row', 'data-id': u.id },
        h('td', null, h('a', { href }, u.userName || u.id)),
        h('td', null, name || u.displayName || '—'),
        h('td', null, email ? email.value : '—'),
        h('td', null, u.active === false ? h('span', { class: 'badge bad' }, 'inactive')
                                         : h('span', { class: 'badge good' }, 'active')),
        timeCell(u.meta && u.meta.lastModified));
      rowLink(tr, href);
      tbody.appendChild(tr);
    }
    return h('table', null, h('caption', { class: 'sr-only' }, 'Users'),
      h('thead', null, h('tr', null, ['userName', 'Name', 'E-mail', 'Status', 'Last modified']
        .map((t) => h('th', { scope: 'col' }, t)))), tbody);
  }

  function groupsTable(groups) {
    const tbody = h('tbody');
    for (const g of groups) {
      const href = hashFor(['groups', g.id]);
      const ext = g['urn:scimd:params:scim:schemas:extension:2.0:Group'] || {};
      const tr = h('tr', { testid: 'group-row', 'data-id': g.id },
        h('td', null, h('a', { href }, g.displayName || g.id)),
        h('td', null, ext.kind || '—'),
        h('td', null, g.externalId || '—'),
        timeCell(g.meta && g.meta.lastModified));
      rowLink(tr, href);
      tbody.appendChild(tr);
    }
    return h('table', null, h('caption', { class: 'sr-only' }, 'Groups'),
      h('thead', null, h('tr', null, ['displayName', 'Kind', 'externalId', 'Last modified']
        .map((t) => h('th', { scope: 'col' }, t)))), tbody);
  }

  // ---------------------------------------------------------------------------------------------
  // One resource

  function resourceView(view, kind, id) {
    const gen = state.generation;
    const isUsers = kind === 'users';
    const title = h('h1', { tabindex: '-1' }, isUsers ? 'User' : 'Group');
    const back = h('p', null, h('a', { href: '#/' + kind }, `← All ${kind}`));
    const attrs = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const syncMsg = h('p', { class: 'notice', role: 'status', testid: 'sync-result', hidden: true });
    const syncButton = h('button', { type: 'button', testid: 'sync-now' }, 'Sync now');
    const linksSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const deliveriesSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    view.appendChild(h('section', { class: 'resource' }, back, title,
      h('div', { class: 'actions' }, syncButton,
        h('span', { class: 'help' }, 'Re-delivers this resource’s current state to every target.')),
      syncMsg,
      h('div', { class: 'columns' },
        h('section', { 'aria-labelledby': 'attrs-title' },
          h('h2', { id: 'attrs-title' }, 'Attributes'), attrs),
        h('section', { 'aria-labelledby': 'links-title' },
          h('h2', { id: 'links-title' }, 'Target links'), linksSlot)),
      h('section', { 'aria-labelledby': 'deliveries-title' },
        h('h2', { id: 'deliveries-title' }, 'Delivery history'),
        h('div', { class: 'scroll' }, deliveriesSlot))));

    api('GET', `/scim/v2/${isUsers ? 'Users' : 'Groups'}/${encodeURIComponent(id)}`)
      .then((res) => {
        if (!current(gen)) return;
        title.textContent = (isUsers ? 'User ' + (res.userName || res.id)
                                     : 'Group ' + (res.displayName || res.id));
        clear(attrs);
        attrs.appendChild(attributeList(res));
        attrs.appendChild(h('details', null, h('summary', null, 'Raw JSON'),
                            h('pre', { class: 'raw' }, JSON.stringify(res, null, 2))));
      }).catch((err) => {
        if (!current(gen)) return;
        clear(attrs);
        attrs.appendChild(errorBox(err, isUsers ? 'User' : 'Group'));
        if (err.status === 404 && state.operator && !state.tenant) {
          attrs.appendChild(h('p', { class: 'help' }, 'Without a tenant picked, SCIM answers for ' +
            'the operator token’s own tenant: pick the resource’s tenant at the top.'));
        }
      });

    const loadLinks = () => api('GET', '/admin/v1/sync/links?resource=' + encodeURIComponent(id))
      .then((body) => {
        if (!current(gen)) return;
        clear(linksSlot);
        const links = (body && body.links) || [];
        if (!links.length) {
          linksSlot.appendChild(h('p', { class: 'muted', testid: 'empty' },
                                  'No target has an id for it yet.'));
          return;
        }
        linksSlot.appendChild(h('table', null,
          h('thead', null, h('tr', null, ['Target', 'Type', 'Target’s id']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, links.map((l) => h('tr', { testid: 'link-row' },
            h('td', null, l.target), h('td', null, l.resource_type || '—'),
            h('td', null, h('code', null, scalar(l.external_id))))))));
      }).catch((err) => {
        if (!current(gen)) return;
        clear(linksSlot);
        linksSlot.appendChild(errorBox(err, 'Links'));
      });

    const loadDeliveries = () => api('GET', '/admin/v1/sync/deliveries?resource=' +
                                     encodeURIComponent(id))
      .then((body) => {
        if (!current(gen)) return;
        const focused = deliveriesSlot.contains(document.activeElement) &&
          document.activeElement.getAttribute('data-id');
        if (focused) setTimeout(() => {
          const again = deliveriesSlot.querySelector(`button[data-id="${CSS.escape(focused)}"]`);
          if (again) again.focus();
        }, 0);
        clear(deliveriesSlot);
        const rows = ((body && body.deliveries) || []).filter((d) => !d.resource_id ||
                                                                    d.resource_id === id);
        if (!rows.length) {
          deliveriesSlot.appendChild(h('p', { class: 'muted', testid: 'empty' },
                                       'No deliveries for it yet.'));
          return;
        }
        deliveriesSlot.appendChild(deliveriesTable(rows, { resource: false, testid: 'delivery-row',
                                                           onRetried: loadDeliveries }));
      }).catch((err) => {
        if (!current(gen)) return;
        clear(deliveriesSlot);
        deliveriesSlot.appendChild(errorBox(err, 'Delivery history'));
      });

    syncButton.addEventListener('click', () => {
      syncButton.disabled = true;
      notice(syncMsg, 'Queuing…', 'ok');
      api('POST', '/admin/v1/sync/resources/' + encodeURIComponent(id)).then((body) => {
        if (!current(gen)) return;
        const queued = body && (body.queued !== undefined ? body.queued
          : (body.deliveries ? body.deliveries.length : undefined));
        notice(syncMsg, 'Sync queued' + (queued !== undefined ? ` (${queued} deliveries)` : '') +
               '. The history below refreshes.', 'ok');
        loadDeliveries();
        setTimeout(() => { if (current(gen)) { loadDeliveries(); loadLinks(); } }, 1000);
      }).catch((err) => {
        if (current(gen)) notice(syncMsg, errorText(err), 'error');
      }).finally(() => { syncButton.disabled = false; });
    });

    loadLinks();
    loadDeliveries();
    // The history and links follow the queue while the page is open.
    state.timers.push(setInterval(() => { loadDeliveries(); loadLinks(); }, SYNC_REFRESH_MS));
  }

  // Nested definition lists for a SCIM resource's attributes.
  function attributeList(obj) {
    const dl = h('dl', { class: 'attrs', testid: 'attributes' });
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'schemas') continue;
      dl.appendChild(h('dt', null, key));
      dl.appendChild(h('dd', null, attributeValue(value)));
    }
    return dl;
  }

  function attributeValue(value) {
    if (Array.isArray(value)) {
      if (!value.length) return '[]';
      if (value.every((v) => v === null || typeof v !== 'object')) return value.join(', ');
      return h('ul', { class: 'values' }, value.map((v) => h('li', null, attributeValue(v))));
    }
    if (value && typeof value === 'object') return attributeList(value);
    return scalar(value);
  }

  // ---------------------------------------------------------------------------------------------
  // Deliveries (shared by the resource page and the sync page)

  function deliveriesTable(rows, options) {
    const opts = options || {};
    const heads = ['#', 'Target'];
    if (opts.resource !== false) heads.push('Resource');
    heads.push('Event', 'Status', 'Attempts', 'Last error', 'Updated', '');
    const tbody = h('tbody');
    for (const d of rows) {
      const cells = [h('td', null, String(d.id)), h('td', null, d.target)];
      if (opts.resource !== false) {
        cells.push(h('td', null, resourceLink(d.resource_type, d.resource_id)));
      }
      const retry = d.status === 'failed'
        ? h('button', { type: 'button', testid: 'retry', 'data-id': String(d.id),
                        'aria-label': `Retry delivery ${d.id} to ${d.target}` }, 'Retry')
        : null;
      const msg = h('span', { class: 'row-msg', role: 'status' });
      if (retry) {
        retry.addEventListener('click', () => {
          retry.disabled = true;
          api('POST', `/admin/v1/sync/deliveries/${encodeURIComponent(d.id)}/retry`).then(() => {
            msg.textContent = 'Re-queued';
            if (opts.onRetried) opts.onRetried();
          }).catch((err) => {
            retry.disabled = false;
            msg.textContent = errorText(err);
            msg.className = 'row-msg error';
          });
        });
      }
      cells.push(h('td', { title: d.event }, shortEvent(d.event)),
        h('td', null, h('span', { class: 'badge ' + statusClass(d.status) }, d.status)),
        h('td', { class: 'num' }, scalar(d.attempts)),
        errorCell(d.last_error),
        timeCell(d.updated),
        h('td', null, retry, msg));
      tbody.appendChild(h('tr', { testid: d.status === 'failed' && opts.testid === 'failed-delivery'
        ? 'failed-delivery' : (opts.testid || 'delivery-row'), 'data-id': String(d.id),
                                  'data-resource-id': d.resource_id }, cells));
    }
    return h('table', { class: 'deliveries' },
      h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col' }, t)))), tbody);
  }

  // "User ada@example.com" for a resource id, looked up once per session (the id until then,
  // and for good when SCIM does not answer, e.g. another tenant's resource seen by the operator).
  const names = new Map();

  function resourceLink(type, id) {
    if (!id) return '—';
    const isGroup = /group/i.test(type || '');
    const isScim = /^(user|group)s?$/i.test(type || '');
    const kindLabel = type || '';
    const label = h('span', null, id);
    const link = isScim ? h('a', { href: hashFor([isGroup ? 'groups' : 'users', id]), title: id },
                            label)
                        : h('span', { title: id }, label);
    if (isScim) {
      const key = (state.tenant || '') + ' ' + id;
      if (!names.has(key)) {
        const path = `/scim/v2/${isGroup ? 'Groups' : 'Users'}/${encodeURIComponent(id)}` +
          `?attributes=${isGroup ? 'displayName' : 'userName'}`;
        names.set(key, api('GET', path).then((r) => (isGroup ? r.displayName : r.userName) || null,
                                              () => null));
      }
      names.get(key).then((name) => { if (name) label.textContent = name; });
    }
    return h('span', { class: 'resource-ref' }, h('span', { class: 'muted' }, kindLabel + ' '), link);
  }

  function statusClass(status) {
    if (status === 'failed') return 'bad';
    if (status === 'delivered' || status === 'done') return 'good';
    return 'warn';
  }

  // ---------------------------------------------------------------------------------------------
  // Sync

  function syncView(view) {
    const gen = state.generation;
    const statusSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const failedSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    const retryAll = h('button', { type: 'button', testid: 'retry-all', disabled: true },
                       'Retry all failed');
    const allMsg = h('p', { class: 'notice', role: 'status', hidden: true });
    const stamp = h('span', { class: 'muted', testid: 'refreshed' });
    const auto = h('input', { type: 'checkbox', id: 'auto-refresh', checked: true });
    view.appendChild(h('section', null,
      h('h1', { tabindex: '-1' }, 'Sync'),
      h('div', { class: 'actions' },
        h('span', null, auto, h('label', { for: 'auto-refresh' }, ' Refresh every ' +
                                (SYNC_REFRESH_MS / 1000) + ' s')),
        h('button', { type: 'button', on: { click: () => refresh() } }, 'Refresh now'), stamp),
      h('section', { 'aria-labelledby': 'targets-title' },
        h('h2', { id: 'targets-title' }, 'Targets'), statusSlot),
      h('section', { 'aria-labelledby': 'failed-title' },
        h('h2', { id: 'failed-title' }, 'Failed deliveries'),
        h('div', { class: 'actions' }, retryAll), allMsg, failedSlot)));

    let failed = [];
    let busy = false;

    async function refresh() {
      if (busy || !current(gen)) return;
      busy = true;
      try {
        const [status, dels] = await Promise.allSettled([
          api('GET', '/admin/v1/sync/status'),
          api('GET', '/admin/v1/sync/deliveries?status=failed'),
        ]);
        if (!current(gen)) return;
        // Keep the focused button focused across a refresh.
        const focused = document.activeElement;
        const focusId = focused && focused.getAttribute && focused.getAttribute('data-id');
        const focusTestid = focused && focused.getAttribute && focused.getAttribute('data-testid');
        clear(statusSlot);
        if (status.status === 'fulfilled') statusSlot.appendChild(targetsTable(status.value));
        else statusSlot.appendChild(errorBox(status.reason, 'Sync status'));
        clear(failedSlot);
        if (dels.status === 'fulfilled') {
          failed = ((dels.value && dels.value.deliveries) || []).filter((d) => d.status === 'failed'
                                                                        || !d.status);
          if (!failed.length) {
            failedSlot.appendChild(h('p', { class: 'muted', testid: 'empty' },
                                     'No failed deliveries.'));
          } else {
            failedSlot.appendChild(deliveriesTable(failed, { testid: 'failed-delivery',
                                                             onRetried: refresh }));
          }
          retryAll.disabled = !failed.length;
        } else {
          failedSlot.appendChild(errorBox(dels.reason, 'Failed deliveries'));
        }
        if (focusId && focusTestid === 'retry') {
          const again = failedSlot.querySelector(`button[data-id="${CSS.escape(focusId)}"]`);
          if (again) again.focus();
        }
        stamp.textContent = 'Updated ' + new Date().toLocaleTimeString();
      } finally {
        busy = false;
      }
    }

    retryAll.addEventListener('click', async () => {
      retryAll.disabled = true;
      let ok = 0;
      const errors = [];
      for (const d of failed) {
        try {
          await api('POST', `/admin/v1/sync/deliveries/${encodeURIComponent(d.id)}/retry`);
          ok += 1;
        } catch (err) {
          errors.push(`#${d.id}: ${errorText(err)}`);
        }
      }
      if (!current(gen)) return;
      notice(allMsg, `Re-queued ${ok} deliveries.` + (errors.length ? ' Not re-queued: ' +
             errors.join('; ') : ''), errors.length ? 'error' : 'ok');
      refresh();
    });

    refresh();
    state.timers.push(setInterval(() => { if (auto.checked) refresh(); }, SYNC_REFRESH_MS));
  }

  function targetsTable(body) {
    const targets = (body && body.targets) || [];
    if (!targets.length) {
      return h('p', { class: 'muted', testid: 'empty' }, 'No targets are configured.');
    }
    // Standing conditions an adapter reported (deliveries go on despite them), under the table.
    const notices = [];
    for (const t of targets) {
      for (const n of (t.notices || [])) notices.push({ target: t.name, ...n });
    }
    const table = targetsRows(targets);
    if (!notices.length) return table;
    return h('div', null, table,
      h('ul', { class: 'notices', testid: 'target-notices' }, notices.map((n) =>
        h('li', { testid: 'target-notice', 'data-name': n.target },
          h('strong', null, `${n.target}: `), `${n.topic}: ${n.message}`,
          h('span', { class: 'muted' }, ` (since ${n.since})`)))));
  }

  function targetsRows(targets) {
    return h('table', null,
      h('thead', null, h('tr', null, ['Target', 'Type', 'Pending', 'Delivered', 'Failed',
        'Oldest pending', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, targets.map((t) => h('tr', { testid: 'target-row', 'data-name': t.name,
                                                    'data-paused': t.paused ? 'true' : 'false' },
        h('th', { scope: 'row' }, t.name,
          // The circuit breaker: a target that looks down is paused and probed (issue 12).
          t.paused ? h('div', { class: 'paused' },
            h('span', { class: 'badge warn', testid: 'target-paused' },
              'paused since ' + fmtTime(t.paused_since)),
            ' (' + (t.pause_reason || 'target unavailable') + ')',
            t.next_probe_at ? h('span', { class: 'muted' }, ' next probe ' + fmtTime(t.next_probe_at))
                            : null) : null),
        h('td', null, t.type || '—'),
        h('td', { class: 'num' }, scalar(t.pending)),
        h('td', { class: 'num' }, scalar(t.delivered)),
        h('td', { class: 'num' }, t.failed ? h('span', { class: 'badge bad' }, String(t.failed))
                                           : scalar(t.failed)),
        h('td', null, t.pending ? fmtAge(t.oldest_pending_seconds) : '—'),
        errorCell(t.last_error)))));
  }

  // ---------------------------------------------------------------------------------------------
  // Audit

  const AUDIT_FILTERS = [
    ['since', 'Since', '2026-01-31T00:00:00Z'],
    ['until', 'Until', '2026-02-01T00:00:00Z'],
    ['actor', 'Actor', 'token name or cli:user'],
    ['resource', 'Resource id', 'SCIM id'],
    ['action', 'Action', 'create, patch, delete, …'],
  ];

  function auditView(view, query) {
    const gen = state.generation;
    const inputs = {};
    const fields = AUDIT_FILTERS.map(([key, label, placeholder]) => {
      inputs[key] = h('input', { id: 'audit-' + key, testid: 'audit-' + key, type: 'text',
                                 value: query.get(key) || '', placeholder, spellcheck: 'false',
                                 autocomplete: 'off' });
      return h('div', { class: 'field' }, h('label', { for: 'audit-' + key }, label), inputs[key]);
    });
    const form = h('form', { class: 'audit-filters', on: { submit: (ev) => {
      ev.preventDefault();
      const q = {};
      for (const [key] of AUDIT_FILTERS) if (inputs[key].value.trim()) q[key] = inputs[key].value.trim();
      if (query.get('count')) q.count = query.get('count');
      const next = hashFor(['audit'], q);
      if (next === location.hash) route(false);
      else location.hash = next;
    } } }, fields, h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Apply')));
    const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Loading…');
    const tbody = h('tbody');
    const showTenant = state.operator && !state.tenant;
    const table = h('table', { class: 'audit', hidden: true },
      h('thead', null, h('tr', null, ['Time'].concat(showTenant ? ['Tenant'] : [], ['Actor',
        'Client', 'Action', 'Resource', 'Version', 'Changes', 'Request id'])
        .map((t) => h('th', { scope: 'col' }, t)))), tbody);
    const older = h('button', { type: 'button', testid: 'audit-older', hidden: true }, 'Older entries');
    view.appendChild(h('section', null, h('h1', { tabindex: '-1' }, 'Audit log'), form, status,
                       h('div', { class: 'scroll' }, table), h('div', { class: 'pager' }, older)));

    let count = 0;
    let cursor = null;
    const size = clampInt(query.get('count'), 50, 1, 1000);
    const filtered = AUDIT_FILTERS.some(([key]) => query.get(key));
    function load() {
      const params = new URLSearchParams();
      for (const [key] of AUDIT_FILTERS) if (query.get(key)) params.set(key, query.get(key));
      if (cursor) params.set('cursor', cursor);
      params.set('limit', String(size));
      older.disabled = true;
      api('GET', '/admin/v1/audit?' + params).then((body) => {
        if (!current(gen)) return;
        const entries = (body && body.entries) || [];
        for (const e of entries) tbody.appendChild(auditRow(e, showTenant));
        count += entries.length;
        cursor = body ? (body.next_cursor || body.cursor || body.next || null) : null;
        table.hidden = count === 0;
        status.textContent = count ? `${count} entries, newest first.`
          : (filtered ? 'No audit entries match these filters.' : 'No audit entries yet.');
        if (!count) status.setAttribute('data-testid', 'empty');
        older.hidden = !cursor;
        older.disabled = false;
      }).catch((err) => {
        if (!current(gen)) return;
        status.textContent = '';
        status.appendChild(errorBox(err, 'Audit log'));
        older.disabled = false;
      });
    }
    older.addEventListener('click', load);
    load();
  }

  function auditRow(e, showTenant) {
    return h('tr', { testid: 'audit-row', 'data-resource-id': e.resource_id || '' },
      timeCell(e.time), showTenant ? h('td', null, e.tenant || '—') : null,
      h('td', { class: 'nowrap' }, e.actor || '—'),
      h('td', null, e.client || e.client_address || '—'),
      h('td', { class: 'nowrap' }, e.action || '—'),
      h('td', null, resourceLink(e.resource_type, e.resource_id)),
      h('td', { class: 'num' }, e.version ? scalar(e.version) : '—'),
      h('td', { class: 'changes-cell' }, changesList(e.changes)),
      h('td', null, e.request_id ? h('code', { title: e.request_id }, e.request_id.length > 12
        ? e.request_id.slice(0, 8) + '…' : e.request_id) : '—'));
  }

  function changesList(changes) {
    if (typeof changes === 'string' && /^\s*[[{]/.test(changes)) {
      try { changes = JSON.parse(changes); } catch (e) { /* shown as text */ }
    }
    if (!changes || (Array.isArray(changes) && !changes.length)) return '—';
    let items;
    if (Array.isArray(changes)) {
      items = changes.map((c) => (c && typeof c === 'object') ? change(c.attribute || c.path ||
        c.name || '', c) : scalar(c));
    } else if (typeof changes === 'object') {
      items = Object.entries(changes).map(([k, c]) => change(k, c));
    } else {
      return scalar(changes);
    }
    return h('ul', { class: 'changes' }, items.map((i) => h('li', null, i)));
  }

  function change(name, c) {
    if (c && typeof c === 'object' && ('added' in c || 'removed' in c)) {
      const parts = [h('code', null, name), ': '];
      const added = Array.isArray(c.added) ? c.added : [];
      const removed = Array.isArray(c.removed) ? c.removed : [];
      if (added.length) parts.push(h('ins', { title: added.join(', ') }, `+${added.length} added`));
      if (added.length && removed.length) parts.push(', ');
      if (removed.length) {
        parts.push(h('del', { title: removed.join(', ') }, `−${removed.length} removed`));
      }
      if (!added.length && !removed.length) parts.push('unchanged');
      return parts;
    }
    if (c && typeof c === 'object' && ('old' in c || 'new' in c)) {
      if (c.changed && !('new' in c)) return `${name}: changed`;
      const none = (v) => v === null || v === undefined;
      if (none(c.old) && none(c.new)) return [h('code', null, name), ': changed'];
      if (none(c.old)) return [h('code', null, name), ' = ', h('ins', null, scalar(c.new))];
      if (none(c.new)) return [h('code', null, name), ': ', h('del', null, scalar(c.old)), ' (removed)'];
      return [h('code', null, name), ': ', h('del', null, scalar(c.old)), ' → ',
              h('ins', null, scalar(c.new))];
    }
    if (c && typeof c === 'object' && c.changed) return `${name}: changed`;
    return [h('code', null, name), ': ', scalar(c)];
  }

  // ---------------------------------------------------------------------------------------------
  // API keys

  const KEY_SCOPES = [['scim:read', 'SCIM read'], ['scim:write', 'SCIM write'],
                      ['admin', 'Admin (this console and the admin API)']];

  function keysView(view) {
    const gen = state.generation;
    const name = h('input', { id: 'key-name', testid: 'key-name', type: 'text', required: true,
                              autocomplete: 'off', spellcheck: 'false',
                              placeholder: 'okta-provisioning' });
    const days = h('input', { id: 'key-expires', testid: 'key-expires', type: 'number', min: '1',
                              step: '1', placeholder: 'never' });
    const scopeBoxes = KEY_SCOPES.map(([scope, label]) => {
      const box = h('input', { type: 'checkbox', id: 'scope-' + scope.replace(':', '-'),
                               value: scope, checked: scope !== 'admin',
                               testid: 'scope-' + scope.replace(':', '-') });
      return { box, el: h('div', { class: 'check' }, box,
        h('label', { for: box.id }, ' ', h('code', null, scope), ' — ', label)) };
    });
    const createMsg = h('div', { role: 'status' });
    const form = h('form', { class: 'key-form', testid: 'key-form' },
      h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Name'), name),
      h('fieldset', null, h('legend', null, 'Scopes'), scopeBoxes.map((s) => s.el)),
      h('div', { class: 'field' }, h('label', { for: 'key-expires' }, 'Expires in days (empty: never)'),
        days),
      h('div', { class: 'field' }, h('button', { type: 'submit', testid: 'create-key' },
                                     'Create key')));
    const listSlot = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
    view.appendChild(h('section', null, h('h1', { tabindex: '-1' }, 'API keys'),
      h('section', { 'aria-labelledby': 'create-title' },
        h('h2', { id: 'create-title' }, 'Create a key'), form, createMsg),
      h('section', { 'aria-labelledby': 'list-title' },
        h('h2', { id: 'list-title' }, 'Keys of this tenant'), listSlot)));

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      clear(createMsg);
      const body = { name: name.value.trim(),
                     scopes: scopeBoxes.filter((s) => s.box.checked).map((s) => s.box.value) };
      if (!body.name) {
        createMsg.appendChild(h('p', { class: 'error', role: 'alert' }, 'A key needs a name.'));
        name.focus();
        return;
      }
      if (!body.scopes.length) {
        createMsg.appendChild(h('p', { class: 'error', role: 'alert' }, 'Pick at least one scope.'));
        return;
      }
      if (days.value) body.expires_in_days = parseInt(days.value, 10);
      api('POST', '/admin/v1/tokens', body).then((res) => {
        if (!current(gen)) return;
        const secret = res && (res.secret || res.token || res.value);
        createMsg.appendChild(secretBox(body.name, secret, () => { clear(createMsg); }));
        name.value = '';
        loadKeys();
      }).catch((err) => {
        if (current(gen)) createMsg.appendChild(errorBox(err, 'Create key'));
      });
    });

    function loadKeys() {
      api('GET', '/admin/v1/tokens').then((body) => {
        if (!current(gen)) return;
        clear(listSlot);
        const keys = Array.isArray(body) ? body : ((body && (body.tokens || body.keys)) || []);
        if (!keys.length) {
          listSlot.appendChild(h('p', { class: 'muted', testid: 'empty' }, 'No keys yet.'));
          return;
        }
        listSlot.appendChild(keysTable(keys, loadKeys));
      }).catch((err) => {
        if (!current(gen)) return;
        clear(listSlot);
        listSlot.appendChild(errorBox(err, 'Keys'));
      });
    }
    loadKeys();
  }

  function secretBox(name, secret, onDone) {
    const field = h('input', { id: 'key-secret', testid: 'key-secret', type: 'text',
                               readonly: true, value: secret || '', spellcheck: 'false',
                               class: 'secret' });
    const copied = h('span', { role: 'status', class: 'muted' });
    const copy = h('button', { type: 'button', on: { click: () => {
      field.select();
      const done = () => { copied.textContent = ' Copied.'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, () => {
          copied.textContent = ' Press Ctrl+C to copy the selected secret.';
        });
      } else {
        try { if (document.execCommand('copy')) done(); else throw new Error(); } catch (e) {
          copied.textContent = ' Press Ctrl+C to copy the selected secret.';
        }
      }
    } } }, 'Copy');
    const box = h('div', { class: 'secret-box', testid: 'secret-box' },
      h('p', null, h('strong', null, `Key “${name}” created.`),
        ' Copy its secret now: it is shown once and cannot be read again.'),
      h('label', { for: 'key-secret' }, 'Secret'), field, copy, copied,
      h('div', null, h('button', { type: 'button', on: { click: onDone } }, 'I have copied it')));
    if (!secret) {
      box.appendChild(h('p', { class: 'error' }, 'The server did not return a secret.'));
    }
    setTimeout(() => { field.focus(); field.select(); }, 0);
    return box;
  }

  function keysTable(keys, reload) {
    const tbody = h('tbody');
    const showTenant = keys.some((k) => k.tenant && k.tenant !== keys[0].tenant);
    for (const k of keys) {
      const name = k.name;
      const msg = h('span', { class: 'row-msg', role: 'status' });
      const actions = h('td');
      const revoked = !!k.revoked || k.status === 'revoked';
      const status = k.status || (revoked ? 'revoked' : 'active');
      const revoke = h('button', { type: 'button', testid: 'revoke', class: 'danger',
                                   'aria-label': `Revoke key ${name}` }, 'Revoke');
      revoke.addEventListener('click', () => {
        clear(actions);
        const yes = h('button', { type: 'button', testid: 'confirm-revoke', class: 'danger' },
                      'Confirm revoke');
        const no = h('button', { type: 'button' }, 'Cancel');
        no.addEventListener('click', () => { clear(actions); append(actions, [revoke, msg]);
                                             revoke.focus(); });
        yes.addEventListener('click', () => {
          yes.disabled = true;
          api('DELETE', '/admin/v1/tokens/' + encodeURIComponent(name)).then(() => {
            reload();
          }).catch((err) => {
            yes.disabled = false;
            msg.textContent = errorText(err);
            msg.className = 'row-msg error';
          });
        });
        append(actions, [h('span', null, `Revoke “${name}”? Clients using it get 401. `), yes, ' ',
                         no, msg]);
        yes.focus();
      });
      if (!revoked) append(actions, [revoke, msg]);
      const scopes = Array.isArray(k.scopes) ? k.scopes.join(', ') : scalar(k.scopes);
      tbody.appendChild(h('tr', { testid: 'key-row', 'data-name': name, 'data-status': status },
        h('th', { scope: 'row' }, name), showTenant ? h('td', null, k.tenant || '—') : null,
        h('td', null, scopes),
        h('td', null, h('span', { class: 'badge ' + (status === 'active' ? 'good' : 'bad') },
                        status)),
        timeCell(k.created || k.created_at), timeCell(k.expires || k.expires_at),
        timeCell(k.last_used || k.last_used_at),
        h('td', { class: 'num' }, scalar(k.request_count !== undefined ? k.request_count
                                                                       : k.requests)),
        actions));
    }
    const heads = ['Name'].concat(showTenant ? ['Tenant'] : [], ['Scopes', 'Status', 'Created',
      'Expires', 'Last used', 'Requests', '']);
    return h('table', null,
      h('thead', null, h('tr', null, heads.map((t) => h('th', { scope: 'col' }, t)))), tbody);
  }

  // ---------------------------------------------------------------------------------------------
  // Start

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const token = $('token-input').value.trim();
      const error = $('login-error');
      if (!token) {
        error.textContent = 'Enter a token.';
        error.hidden = false;
        return;
      }
      const button = $('login');
      button.disabled = true;
      error.hidden = true;
      try {
        await login(token);
        $('token-input').value = '';
        await startSession();
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        $('token-input').focus();
      } finally {
        button.disabled = false;
      }
    });
    $('logout').addEventListener('click', logout);
    window.addEventListener('hashchange', () => route(true));
    if (state.token) startSession();
    else showLogin('');
  });
})();
