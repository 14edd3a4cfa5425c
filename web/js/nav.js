// nav.js: in-app navigation.  app.js registers the function that shows the
// page for the current URL; pages call navigate() instead of importing the
// router (no circular imports).
let showPage = () => {};

export function onNavigate(fn) {
  showPage = fn;
}

// navigate('/marketplace?page=2') or navigate(url, {replace: true}).
export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, location.href);
  const samePage = target.pathname === location.pathname;
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  showPage();
  if (!samePage) {
    window.scrollTo(0, 0);
    const root = document.getElementById('app');
    if (root) root.focus({ preventScroll: true });
  }
}

// The path and query of the current page, for ?next= after signing in.
export function here() {
  return location.pathname + location.search;
}
