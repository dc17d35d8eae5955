// The rights holder's page of `bonafide serve` (docs/portal.md, "Web page").
//
// Flow: on load, GET /api/v1/session tells whether the session cookie is still valid; if
// not, the login form posts the token to /api/v1/session, which sets the HttpOnly cookie and
// returns a CSRF token that lives only in this module's memory (a reload asks the server
// again). The cases of the selected status are listed newest first, a page at a time; each
// case shows its listing with the matched text highlighted, the price against the
// reference, the explanation, the photos and the verdict buttons.
//
// IMPORTANT: everything a listing carries (title, description, seller, photo paths, even
// rule ids) is hostile input. It reaches the page only through textContent, text nodes and
// attribute values, never through innerHTML or a URL; the only URLs built here are our own
// API paths with the case key percent-encoded as one path segment.

const kPageSize = 20;
const kExtraPhotos = 4;  // unmatched listing photos shown per case, beyond the matched ones
const kVerdicts = [
  {verdict: 'counterfeit', label: 'Counterfeit'},
  {verdict: 'genuine', label: 'Genuine'},
  {verdict: 'not_ours', label: 'Not ours'},
];
const kVariantWords = {
  original: 'as is',
  rotate90: 'rotated 90°',
  rotate180: 'rotated 180°',
  rotate270: 'rotated 270°',
  flip_x: 'mirrored left to right',
  flip_y: 'mirrored top to bottom',
  transpose: 'transposed',
  transverse: 'transversed',
};

const state = {
  csrf: null,        // from POST or GET /api/v1/session; sent on every POST and DELETE
  admin: false,
  holder: null,      // the session's rights holder; null for an admin
  filter: '',        // admin only: ?rights_holder= on the lists
  status: 'pending',
  next: null,        // cursor of the next page, null when the list is complete
  generation: 0,     // bumped when the list restarts, so that a late page is dropped
};

let uniqueId = 0;  // ids that tie labels to their controls

// ---- DOM helpers -----------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

// Creates an element. Attribute values and string children are data, never markup:
// append() turns a string into a text node. Event handler attributes are refused, so that
// no caller can route data into one.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name)) throw new Error(`el(): event attribute ${name} refused`);
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function showMessage(node, text, kind = '') {
  node.textContent = text;
  node.classList.toggle('error', kind === 'error');
  node.classList.toggle('ok', kind === 'ok');
  node.hidden = text === '';
}

// "2024-05-01T12:34:56.789Z" -> "2024-05-01 12:34 UTC"; anything else as it is.
function when(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(iso ?? ''));
  return m ? `${m[1]} ${m[2]} UTC` : String(iso ?? '');
}

// Amount with the currency's usual decimals (the browser's ISO 4217 table), e.g. "79.00 EUR".
function money(amount, currency) {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return '?';
  let decimals = 2;
  try {
    decimals = new Intl.NumberFormat('en', {style: 'currency', currency})
                   .resolvedOptions().maximumFractionDigits;
  } catch {
    // Not an ISO 4217 code: two decimals.
  }
  return `${amount.toFixed(decimals)} ${currency ?? ''}`.trim();
}

function percent(ratio) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '?';
  return `${(ratio * 100).toLocaleString('en', {maximumFractionDigits: 2})}%`;
}

// ---- API -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;  // 0 when the server could not be reached
  }
}

// Sends one API request and returns the parsed JSON body (null for 204). Throws ApiError
// with the server's {"error": ...} message for any other status. A 401 on a logged-in page
// means the session ended: the login form comes back.
async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  const init = {method, headers, credentials: 'same-origin', cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${e.message})`);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = JSON.parse(await response.text());
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === 'string' ? data.error : response.statusText;
    const error = new ApiError(response.status, message || `HTTP ${response.status}`);
    if (response.status === 401 && state.csrf !== null && path !== '/api/v1/session') {
      leaveSession('Your session has ended. Log in again.');
    }
    throw error;
  }
  if (data === null) throw new ApiError(response.status, 'the server did not answer with JSON');
  return data;
}

function describe(error) {
  if (!(error instanceof ApiError)) return `unexpected error: ${error.message}`;
  return error.status ? `${error.message} (HTTP ${error.status})` : error.message;
}

// ---- session ---------------------------------------------------------------------------

function enterSession(session) {
  state.csrf = String(session.csrf_token ?? '');
  state.admin = session.admin === true;
  state.holder = typeof session.rights_holder === 'string' ? session.rights_holder : null;
  state.filter = '';
  $('who').textContent = state.admin ? 'Administrator: every rights holder'
                                     : `Rights holder: ${state.holder ?? '?'}`;
  $('account').hidden = false;
  $('login').hidden = true;
  $('holder-filter').hidden = !state.admin;
  $('holder').value = '';
  $('cases').hidden = false;
  selectTab('pending', false);
}

function leaveSession(message) {
  state.csrf = null;
  state.admin = false;
  state.holder = null;
  state.generation++;
  $('account').hidden = true;
  $('cases').hidden = true;
  $('case-list').replaceChildren();
  $('login').hidden = false;
  showMessage($('login-message'), message ?? '', 'error');
  $('token').focus();
}

async function logIn(event) {
  event.preventDefault();
  const input = $('token');
  const token = input.value.trim();
  input.value = '';  // the token leaves the page's memory as soon as it is sent
  if (!token) return;
  const button = event.submitter ?? $('login-form').querySelector('button');
  button.disabled = true;
  showMessage($('login-message'), '');
  try {
    enterSession(await api('POST', '/api/v1/session', {token}));
  } catch (e) {
    showMessage($('login-message'),
                e.status === 401 ? 'That token was not accepted (unknown or revoked).'
                                 : `Could not log in: ${describe(e)}`,
                'error');
    input.focus();
  } finally {
    button.disabled = false;
  }
}

async function logOut() {
  try {
    await api('DELETE', '/api/v1/session');
    leaveSession('');
    showMessage($('login-message'), 'You are logged out.', 'ok');
  } catch (e) {
    // 401: the session had already ended. Otherwise the cookie may still be valid on the
    // server (a reload would show the cases again): say so.
    leaveSession(e.status === 401 ? '' : `The server did not end the session: ${describe(e)}`);
  }
}

// ---- case list -------------------------------------------------------------------------

function selectTab(status, focus) {
  state.status = status;
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.status === status;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected) {
      $('case-list').setAttribute('aria-labelledby', tab.id);
      if (focus) tab.focus();
    }
  }
  loadCases(true);
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(event.target);
  let j = -1;
  if (event.key === 'ArrowRight') j = (i + 1) % tabs.length;
  else if (event.key === 'ArrowLeft') j = (i + tabs.length - 1) % tabs.length;
  else if (event.key === 'Home') j = 0;
  else if (event.key === 'End') j = tabs.length - 1;
  if (j < 0) return;
  event.preventDefault();
  selectTab(tabs[j].dataset.status, true);
}

function casesPath(after) {
  const query = new URLSearchParams({status: state.status, limit: String(kPageSize)});
  if (after) query.set('after', after);
  if (state.admin && state.filter) query.set('rights_holder', state.filter);
  return `/api/v1/cases?${query}`;
}

// Loads the first page of the selected status (restart) or the next one.
async function loadCases(restart) {
  const list = $('case-list');
  const message = $('list-message');
  const more = $('load-more');
  if (restart) {
    state.generation++;
    state.next = null;
    list.replaceChildren();
  }
  const generation = state.generation;
  more.hidden = true;
  list.setAttribute('aria-busy', 'true');
  showMessage(message, 'Loading…');
  try {
    const data = await api('GET', casesPath(restart ? null : state.next));
    if (generation !== state.generation) return;
    for (const c of Array.isArray(data.cases) ? data.cases : []) list.append(renderCase(c));
    state.next = typeof data.next === 'string' && data.next !== '' ? data.next : null;
    more.hidden = state.next === null;
    const shown = list.children.length;
    showMessage(message, shown === 0 ? `No ${state.status} cases.`
                                     : `${shown} ${state.status} case${shown === 1 ? '' : 's'}` +
                                           (state.next ? ' shown; more below.' : '.'));
  } catch (e) {
    if (generation !== state.generation) return;
    showMessage(message, `Could not load the cases: ${describe(e)}`, 'error');
    more.hidden = state.next === null;
  } finally {
    if (generation === state.generation) list.setAttribute('aria-busy', 'false');
  }
}

// ---- one case --------------------------------------------------------------------------

function renderCase(c) {
  const evidence = c.evidence && typeof c.evidence === 'object' ? c.evidence : {};
  const listing = evidence.listing && typeof evidence.listing === 'object' ? evidence.listing : {};
  const reasons = Array.isArray(c.reasons) ? c.reasons : [];
  const headingId = `case-${++uniqueId}`;
  const article = el('article', {
    class: 'case',
    'aria-labelledby': headingId,
    'data-case-key': c.case_key,
    'data-status': c.status,
  });

  const title = typeof listing.title === 'string' && listing.title !== '' ? listing.title : null;
  // Three blocks: the listing and why it was flagged; the photos and the verdict (beside it
  // on a laptop, below it on a phone); the history.
  article.append(
      el('header', {class: 'case-head'},
         el('h3', {id: headingId, class: 'case-title'},
            title ? highlighted(title, 'title', reasons, evidence.first_mention) : '(no title)'),
         el('span', {class: `badge status-${c.status}`}, String(c.status ?? ''))),
      el('div', {class: 'case-body'},
         caseFacts(c, listing),
         priceLine(listing, reasons),
         typeof evidence.explanation === 'string'
             ? el('p', {class: 'explanation'}, el('span', {class: 'label'}, 'Why: '),
                  evidence.explanation)
             : null,
         signalList(c.signals),
         description(listing, reasons, evidence.first_mention)),
      el('div', {class: 'case-side'}, photos(c, listing, reasons), verdictForm(c)),
      history(c));
  return article;
}

function caseFacts(c, listing) {
  const facts = [
    ['Marketplace', c.marketplace],
    ['Listing', c.listing_id],
    ['Seller', c.seller_id],
    ['Score', c.score],
    ['First seen', when(c.first_seen_at)],
    ['Last seen', when(c.last_seen_at)],
  ];
  if (state.admin) facts.unshift(['Rights holder', c.rights_holder]);
  if (Number.isInteger(listing.quantity) && listing.quantity > 1) {
    facts.push(['Quantity', listing.quantity]);
  }
  const list = el('dl', {class: 'facts'});
  for (const [name, value] of facts) {
    list.append(el('div', {}, el('dt', {}, name), el('dd', {}, String(value ?? ''))));
  }
  list.append(el('div', {class: 'case-key'}, el('dt', {}, 'Case'),
                 el('dd', {}, el('code', {}, String(c.case_key ?? '')))));
  return list;
}

function priceLine(listing, reasons) {
  const line = el('p', {class: 'price'}, el('span', {class: 'label'}, 'Price: '),
                  money(listing.price, listing.currency));
  const price = reasons.find((r) => r && r.signal === 'price');
  if (price) {
    line.classList.add('below');
    const unit = price.units > 1 ? ` (unit price ${money(price.unit_price, price.base_currency)})`
                                 : '';
    line.append(unit, ' against the reference ',
                money(price.reference_amount, price.reference_currency),
                el('strong', {}, ` ${percent(price.ratio)} of the reference`),
                `, flagged below ${percent(price.min_price_ratio)}`);
  } else {
    line.append(' (not below a reference price)');
  }
  return line;
}

function signalList(signals) {
  const names = Array.isArray(signals) ? signals : [];
  if (names.length === 0) return null;
  const list = el('ul', {class: 'signals', 'aria-label': 'Signals'});
  for (const name of names) list.append(el('li', {}, String(name)));
  return list;
}

function description(listing, reasons, firstMention) {
  if (typeof listing.description !== 'string' || listing.description === '') return null;
  const matched = reasons.some((r) => r && r.field === 'description') ||
                  (firstMention && firstMention.field === 'description');
  return el('details', {class: 'description', open: matched},
            el('summary', {}, matched ? 'Description (matched text inside)' : 'Description'),
            el('p', {}, highlighted(listing.description, 'description', reasons, firstMention)));
}

// Returns a function from a UTF-8 byte offset of `text` to its UTF-16 index (what JS strings
// use), or -1 when the offset is not at a character boundary.
function byteToIndex(text) {
  const boundaries = new Map([[0, 0]]);
  let bytes = 0;
  let index = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    index += ch.length;
    boundaries.set(bytes, index);
  }
  return (offset) => (boundaries.has(offset) ? boundaries.get(offset) : -1);
}

// Returns a fragment of `text` with every span of the reasons (and the first brand mention)
// in `field` wrapped in <mark>. Spans are UTF-8 byte offsets into the field as written; a
// span whose offsets do not land on the text it names is skipped rather than guessed.
function highlighted(text, field, reasons, firstMention) {
  const toIndex = byteToIndex(text);
  const spans = [];
  const add = (r, kind, label) => {
    if (!r || r.field !== field || !Number.isInteger(r.begin) || !Number.isInteger(r.end)) return;
    const begin = toIndex(r.begin);
    const end = toIndex(r.end);
    if (begin < 0 || end <= begin) return;
    if (typeof r.text === 'string' && text.slice(begin, end) !== r.text) return;
    spans.push({begin, end, kind, label});
  };
  for (const r of reasons) {
    if (!r) continue;
    const label = r.signal === 'cue' ? `cue rule ${r.rule}${r.shadow ? ' (shadow)' : ''}`
                                     : String(r.signal ?? '');
    add(r, String(r.signal ?? ''), label);
  }
  add(firstMention, 'mention', 'brand mention');

  const fragment = document.createDocumentFragment();
  const cuts = new Set([0, text.length]);
  for (const s of spans) cuts.add(s.begin).add(s.end);
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; ++i) {
    const [from, to] = [points[i], points[i + 1]];
    const piece = text.slice(from, to);
    const covering = spans.filter((s) => s.begin <= from && to <= s.end);
    if (covering.length === 0) {
      fragment.append(piece);
      continue;
    }
    const kinds = [...new Set(covering.map((s) => `hl-${s.kind.replace(/[^a-z_]/g, '')}`))];
    fragment.append(el('mark', {class: kinds.join(' '),
                                title: [...new Set(covering.map((s) => s.label))].join(', ')},
                       piece));
  }
  return fragment;
}

// ---- photos ----------------------------------------------------------------------------

function photoPath(caseKey, n, genuine) {
  return `/api/v1/photos/${encodeURIComponent(caseKey)}/${n}${genuine ? '?genuine=1' : ''}`;
}

function photo(caseKey, n, genuine, label, lazy) {
  const frame = el('div', {class: genuine ? 'photo genuine' : 'photo'});
  const img = el('img', {alt: label, decoding: 'async', loading: lazy ? 'lazy' : null});
  img.addEventListener('error', () => {
    img.replaceWith(el('span', {class: 'photo-missing'}, 'photo not available'));
  }, {once: true});
  img.src = photoPath(caseKey, n, genuine);
  frame.append(img, el('span', {class: 'photo-label'}, label));
  return frame;
}

function photos(c, listing, reasons) {
  const images = Array.isArray(listing.images) ? listing.images : [];
  if (images.length === 0) return null;
  const section = el('section', {class: 'photos', 'aria-label': 'Photos'});
  const shown = new Set();
  for (const r of reasons) {
    if (!r || typeof r.photo !== 'string') continue;
    const n = images.indexOf(r.photo);
    if (n < 0 || shown.has(n)) continue;
    shown.add(n);
    if (r.signal === 'image') {
      const variant = kVariantWords[r.variant] ?? String(r.variant ?? '');
      section.append(el('figure', {class: 'pair'},
                        el('div', {class: 'pair-photos'},
                           photo(c.case_key, n, false, `Listing photo ${n + 1}`),
                           photo(c.case_key, n, true, `Genuine photo of ${r.product}`)),
                        el('figcaption', {},
                           el('strong', {}, `Distance ${r.distance} of at most ${r.max_distance}`),
                           ` (${variant}): listing photo ${n + 1} is the genuine photo ` +
                               `${r.genuine_photo} of ${r.product}.`)));
    } else if (r.signal === 'known_counterfeit_photo') {
      section.append(el('figure', {class: 'single'},
                        photo(c.case_key, n, false, `Listing photo ${n + 1}`),
                        el('figcaption', {},
                           el('strong', {}, `Distance ${r.distance} of at most ${r.max_distance}`),
                           `: listing photo ${n + 1} shows a photo of confirmed counterfeit ` +
                               `case ${r.case_key}.`)));
    }
  }
  const others = el('div', {class: 'thumbs'});
  for (let n = 0; n < images.length && others.children.length < kExtraPhotos; ++n) {
    if (!shown.has(n)) others.append(photo(c.case_key, n, false, `Listing photo ${n + 1}`, true));
  }
  if (others.children.length) section.append(others);
  return section;
}

// ---- verdicts --------------------------------------------------------------------------

function verdictForm(c) {
  const id = ++uniqueId;
  const comment = el('textarea', {id: `comment-${id}`, rows: 2, maxlength: 4096});
  const authorize = el('input', {id: `authorize-${id}`, type: 'checkbox'});
  const message = el('p', {class: 'message', role: 'status', 'aria-live': 'polite', hidden: true});
  const buttons = el('div', {class: 'verdict-buttons'});
  const form = el('form', {class: 'verdict'},
                  el('fieldset', {},
                     el('legend', {}, c.status === 'pending' ? 'Your verdict'
                                                             : 'Change the verdict'),
                     el('div', {class: 'field'}, el('label', {for: comment.id}, 'Comment (optional)'),
                        comment),
                     el('div', {class: 'check'}, authorize,
                        el('label', {for: authorize.id},
                           'Authorize this seller (with “Genuine”: never flagged again)')),
                     buttons),
                  message);
  form.addEventListener('submit', (event) => event.preventDefault());
  for (const {verdict, label} of kVerdicts) {
    const button = el('button', {type: 'button', class: `verdict-${verdict}`,
                                 'data-verdict': verdict},
                      label);
    button.addEventListener('click', () => postVerdict(form, c, verdict, false));
    buttons.append(button);
  }
  return form;
}

async function postVerdict(form, c, verdict, replace) {
  const controls = form.querySelectorAll('button, textarea, input');
  const message = form.querySelector('.message');
  const label = kVerdicts.find((v) => v.verdict === verdict).label;
  const body = {
    verdict,
    comment: form.querySelector('textarea').value,
    authorize_seller: verdict === 'genuine' && form.querySelector('input[type=checkbox]').checked,
    replace,
  };
  for (const control of controls) control.disabled = true;
  showMessage(message, 'Saving…');
  try {
    const data = await api('POST', `/api/v1/cases/${encodeURIComponent(c.case_key)}/verdict`,
                           body);
    const card = renderCase(data.case);
    form.closest('article').replaceWith(card);
    showMessage(card.querySelector('form.verdict .message'),
                `Recorded: ${label}. The case is now ${data.case.status}.`, 'ok');
  } catch (e) {
    for (const control of controls) control.disabled = false;
    if (e.status === 409) {
      showMessage(message, `This case already has a verdict (${e.message}). `, 'error');
      const again = el('button', {type: 'button', class: 'secondary'}, `Replace it with “${label}”`);
      again.addEventListener('click', () => postVerdict(form, c, verdict, true), {once: true});
      message.append(again);
    } else if (e.status !== 401) {
      showMessage(message, `The verdict was not recorded: ${describe(e)}`, 'error');
    }
  }
}

// ---- history (events and verdicts), fetched when opened --------------------------------

function history(c) {
  const details = el('details', {class: 'history'}, el('summary', {}, 'History'));
  const body = el('div', {}, 'Loading…');
  details.append(body);
  let loaded = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      const data = await api('GET', `/api/v1/cases/${encodeURIComponent(c.case_key)}`);
      const entries = [];
      for (const v of Array.isArray(data.verdicts) ? data.verdicts : []) {
        entries.push([String(v.created_at ?? ''),
                      `${when(v.created_at)}: verdict ${v.verdict} by ${v.actor}` +
                          (v.authorize_seller ? ' (seller authorized)' : '') +
                          (v.comment ? `: “${v.comment}”` : '')]);
      }
      for (const e of Array.isArray(data.events) ? data.events : []) {
        entries.push([String(e.created_at ?? ''), `${when(e.created_at)}: ${e.type}`]);
      }
      // Oldest first; the sort is stable, so a verdict stays before the event it caused.
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const list = el('ol', {class: 'events'});
      for (const [, text] of entries) list.append(el('li', {}, text));
      body.replaceChildren(list.children.length ? list : 'Nothing recorded yet.');
    } catch (e) {
      loaded = false;
      body.replaceChildren(el('span', {class: 'message error'},
                              `Could not load the history: ${describe(e)}`));
    }
  });
  return details;
}

// ---- start -----------------------------------------------------------------------------

async function start() {
  $('login-form').addEventListener('submit', logIn);
  $('logout').addEventListener('click', logOut);
  $('load-more').addEventListener('click', () => loadCases(false));
  $('holder-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    state.filter = $('holder').value.trim();
    loadCases(true);
  });
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener('click', () => selectTab(tab.dataset.status, false));
    tab.addEventListener('keydown', onTabKey);
  }
  try {
    enterSession(await api('GET', '/api/v1/session'));
  } catch (e) {
    leaveSession(e.status === 401 ? '' : `The server did not answer: ${describe(e)}`);
  }
}

start();
