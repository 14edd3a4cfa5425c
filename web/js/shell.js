// shell.js: the site header (navigation, cart, account) rendered by Preact
// into <header id="site-header">.  Pages whose features are not built yet
// are not linked here.
import { html } from './ui.js';
import { useSession, signOut } from './session.js';
import { navigate } from './nav.js';
import { Bell } from './bell.js';

function isCreator(user) {
  return user && (user.user_type === 'creator' || user.user_type === 'both' || user.role === 'admin');
}

export function Header() {
  const { user, ready, cartCount } = useSession();
  const onSignOut = async () => {
    await signOut();
    navigate('/');
  };
  return html`<a class="brand" href="/">HWC3D</a>
    <nav aria-label="Main">
      <a href="/marketplace">Marketplace</a>
      <a href="/leaderboard">Leaderboard</a>
      <a href="/community">Community</a>
      <a href="/bounties">Bounties</a>
      <a href="/learn">Learn</a>
      ${isCreator(user) && html`<a href="/upload">Upload</a>`}
      ${user && html`<a href="/dashboard">Dashboard</a>`}
      ${user && html`<a href="/dashboard/messages">Messages</a>`}
      <a href="/support">Support</a>
    </nav>
    <nav class="account" aria-label="Account">
      ${user && html`<${Bell} />`}
      ${user && html`<a href="/cart">Cart${cartCount ? html` <span class="badge" aria-label=${`${cartCount} in cart`}>${cartCount}</span>` : ''}</a>`}
      ${ready && !user && html`<a class="button" href="/auth">Sign in</a>`}
      ${user && html`<a href=${`/u/${encodeURIComponent(user.username)}`}>@${user.username}</a>
        <button type="button" class="link" onClick=${onSignOut}>Sign out</button>`}
    </nav>`;
}
