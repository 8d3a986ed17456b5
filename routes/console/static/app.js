/* global document, location */
// Entry point: one shell for every console page; the path picks what to show.
import { h, replace } from './dom.js';
import { showList } from './list.js';
import { showCall } from './call.js';

const main = document.getElementById('main');
const path = location.pathname.replace(/\/+$/, '');
const call = /^\/console\/calls\/([^/]+)$/.exec(path);

const page = call ? showCall(main, decodeURIComponent(call[1])) : path === '/console' ? showList(main) : notFound();
page
  .catch((err) => {
    if (err?.status === 401) return; // already on the way to the login form
    replace(main, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, String(err?.message ?? err)));
  })
  .finally(() => main.removeAttribute('aria-busy'));

async function notFound() {
  replace(main, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/console' }, 'All calls')));
}
