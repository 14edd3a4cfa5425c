// learn.js: the learning center.  /learn lists the published courses
// (difficulty, category, search and sort kept in the URL) and, signed in,
// the caller's courses with their progress; /learn/:id shows one course:
// its lessons (their text once enrolled), enroll, and "mark complete" on
// each lesson with the progress bar.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../nav.js';
import { useSession } from '../session.js';
import { html, formatCount, withQuery, LinkPager, Loading, Empty, ErrorBox } from '../ui.js';
import { FormError } from './auth.js';
import { useAsWho } from './bounties.js';

const DIFFICULTIES = [['beginner', 'Beginner'], ['intermediate', 'Intermediate'], ['advanced', 'Advanced']];
const CATEGORIES = [
  ['modeling', 'Modeling'], ['sculpting', 'Sculpting'], ['texturing', 'Texturing'], ['animation', 'Animation'],
  ['rigging', 'Rigging'], ['lighting', 'Lighting'], ['rendering', 'Rendering'], ['game-assets', 'Game assets'],
  ['3d-printing', '3D printing'], ['business', 'Business'], ['other', 'Other'],
];
const SORTS = [['newest', 'Newest'], ['popular', 'Most popular'], ['title', 'Title']];

const label = (list, v) => (list.find(([k]) => k === v) || [v, v])[1];
const minutes = (n) => (n >= 60 ? `${Math.floor(n / 60)} h ${n % 60 ? `${n % 60} min` : ''}` : `${n} min`);

function Progress({ progress, id }) {
  if (!progress) return null;
  return html`<div class="course-progress">
    <label for=${id}>${progress.completed_lessons} of ${progress.total_lessons} lessons done (${progress.percent}%)</label>
    <progress id=${id} max="100" value=${progress.percent}>${progress.percent}%</progress>
  </div>`;
}

function CourseCard({ course: c }) {
  return html`<li class="comm-card card course-card">
    <div class="comm-card-head">
      <a class="comm-name" href=${`/learn/${c.id}`}>${c.title}</a>
      <span class=${`course-level l-${c.difficulty}`}>${label(DIFFICULTIES, c.difficulty)}</span>
    </div>
    <p class="comm-meta">${label(CATEGORIES, c.category)} · ${formatCount(c.lessons_count)} lessons · ${minutes(c.duration_minutes)}
      ${c.instructor && ` · with ${c.instructor}`} · ${formatCount(c.enrolled_count)} enrolled</p>
    ${c.description && html`<p class="comm-desc">${c.description}</p>`}
    ${c.is_enrolled && html`<${Progress} progress=${c.progress} id=${`cp-${c.id}`} />`}
  </li>`;
}

function Filters({ query }) {
  const onSubmit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    navigate(withQuery('/learn', query, { search: f.get('search').trim(), difficulty: f.get('difficulty'),
      category: f.get('category'), sort: f.get('sort'), page: '' }));
  };
  const onChange = (e) => { if (e.target.tagName === 'SELECT') e.target.form.requestSubmit(); };
  return html`<form class="filters" role="search" onSubmit=${onSubmit} onChange=${onChange}>
    <div class="field grow">
      <label for="lf-search">Search courses</label>
      <input id="lf-search" name="search" type="search" maxlength="100" value=${query.get('search') || ''} />
    </div>
    <div class="field">
      <label for="lf-difficulty">Level</label>
      <select id="lf-difficulty" name="difficulty">
        <option value="">All levels</option>
        ${DIFFICULTIES.map(([v, l]) => html`<option value=${v} selected=${query.get('difficulty') === v}>${l}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="lf-category">Topic</label>
      <select id="lf-category" name="category">
        <option value="">All topics</option>
        ${CATEGORIES.map(([v, l]) => html`<option value=${v} selected=${query.get('category') === v}>${l}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for="lf-sort">Sort by</label>
      <select id="lf-sort" name="sort">
        ${SORTS.map(([v, l]) => html`<option value=${v} selected=${(query.get('sort') || 'newest') === v}>${l}</option>`)}
      </select>
    </div>
    <button type="submit">Search</button>
  </form>`;
}

function MyCourses({ signal }) {
  const mine = useAsWho((sig) => api('/api/users/me/courses', { query: { limit: 6 }, signal: sig }), [], signal);
  if (mine.loading && !mine.data) return html`<${Loading} label="Loading your courses…" />`;
  if (mine.error) return html`<${ErrorBox} error=${mine.error} onRetry=${mine.reload} />`;
  if (!mine.data.items.length) return html`<${Empty}>You have not enrolled in a course yet.<//>`;
  return html`<ul class="comm-list" aria-label="My courses">
    ${mine.data.items.map((c) => html`<li class="comm-card card" key=${c.id}>
      <a class="comm-name" href=${`/learn/${c.id}`}>${c.title}</a>
      <${Progress} progress=${c.progress} id=${`mc-${c.id}`} />
      ${c.progress.last_lesson && html`<p class="comm-meta">Last lesson: ${c.progress.last_lesson.title}</p>`}
    </li>`)}
  </ul>`;
}

export function LearnPage({ query, signal }) {
  const { user } = useSession();
  const page = Math.max(1, parseInt(query.get('page') || '1', 10) || 1);
  const q = { page, limit: 20, sort: query.get('sort') || 'newest' };
  for (const k of ['search', 'difficulty', 'category']) if (query.get(k)) q[k] = query.get(k);
  const list = useAsWho((sig) => api('/api/courses', { query: q, signal: sig }), [], signal);
  let body;
  if (list.loading && !list.data) body = html`<${Loading} label="Loading courses…" />`;
  else if (list.error) body = html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  else if (!list.data.items.length) body = html`<${Empty}>No course matches.<//>`;
  else {
    body = html`<p class="count">${formatCount(list.data.total)} ${list.data.total === 1 ? 'course' : 'courses'}</p>
      <ul class="comm-list" aria-label="Courses">
        ${list.data.items.map((c) => html`<${CourseCard} key=${c.id} course=${c} />`)}
      </ul>
      <${LinkPager} page=${list.data.page} pages=${list.data.pages} href=${(n) => withQuery('/learn', query, { page: n === 1 ? '' : n })} />`;
  }
  return html`<section class="page learn">
    <h1>Learning center</h1>
    <p class="lead">Courses on modeling, texturing, rigging and selling your work.</p>
    <div class="comm-layout">
      <div class="comm-main">
        <${Filters} query=${query} />
        ${body}
      </div>
      ${user && html`<aside class="comm-side" aria-labelledby="my-courses">
        <h2 id="my-courses">My courses</h2>
        <${MyCourses} signal=${signal} />
      </aside>`}
    </div>
  </section>`;
}

function Lesson({ lesson: l, n, enrolled, busy, onComplete }) {
  const [open, setOpen] = useState(false);
  const hasBody = enrolled && (l.content || l.video_url);
  return html`<li class=${`card course-lesson${l.is_completed ? ' done' : ''}`}>
    <div class="comm-card-head">
      <h3>${n}. ${l.title}</h3>
      <span class="comm-meta">${minutes(l.duration_minutes)}${l.is_completed ? ' · Completed' : ''}</span>
    </div>
    ${hasBody && html`<button type="button" class="link" aria-expanded=${open} aria-controls=${`lesson-${l.id}`}
      onClick=${() => setOpen(!open)}>${open ? 'Hide lesson' : 'Open lesson'}</button>`}
    ${hasBody && open && html`<div id=${`lesson-${l.id}`} class="course-lesson-body">
      ${l.content && html`<p class="comm-desc">${l.content}</p>`}
      ${l.video_url && html`<p><a href=${l.video_url} rel="noopener noreferrer" target="_blank">Watch the video</a></p>`}
    </div>`}
    ${enrolled && !l.is_completed && html`<button type="button" disabled=${busy} onClick=${() => onComplete(l)}
      aria-label=${`Mark lesson ${n} complete`}>Mark complete</button>`}
  </li>`;
}

export function CoursePage({ params, signal }) {
  const { user } = useSession();
  const id = params.id;
  const one = useAsWho((sig) => api(`/api/courses/${encodeURIComponent(id)}`, { signal: sig }), [id], signal);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (one.loading && !one.data) return html`<section class="page"><${Loading} label="Loading the course…" /></section>`;
  if (one.error) {
    return html`<section class="page narrow">
      <h1>${one.error.status === 404 ? 'Course not found' : 'This course could not be loaded'}</h1>
      <${ErrorBox} error=${one.error} onRetry=${one.error.status === 404 ? null : one.reload} />
      <p><a href="/learn">All courses</a></p>
    </section>`;
  }
  const c = one.data;
  const enroll = async () => {
    setBusy(true);
    setError(null);
    try {
      one.set(await api(`/api/courses/${c.id}/enroll`, { method: 'POST' }));
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  const complete = async (lesson) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api(`/api/courses/${c.id}/lessons/${lesson.id}/complete`, { method: 'POST' });
      one.set({ ...c, progress: r.progress,
        lessons: c.lessons.map((l) => (l.id === lesson.id ? { ...l, is_completed: true } : l)) });
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };
  return html`<section class="page course">
    <p><a href="/learn">← All courses</a></p>
    <h1>${c.title}</h1>
    <p class="comm-meta">${label(DIFFICULTIES, c.difficulty)} · ${label(CATEGORIES, c.category)} ·
      ${formatCount(c.lessons_count)} lessons · ${minutes(c.duration_minutes)}${c.instructor ? ` · with ${c.instructor}` : ''}
      · ${formatCount(c.enrolled_count)} enrolled</p>
    ${c.description && html`<p class="comm-desc">${c.description}</p>`}
    ${error && html`<${FormError} error=${error} />`}
    ${!user && html`<p><a class="button" href=${`/auth?next=${encodeURIComponent(`/learn/${c.id}`)}`}>Sign in to enroll</a></p>`}
    ${user && !c.is_enrolled && html`<p><button type="button" disabled=${busy} onClick=${enroll}>Enroll in this course</button></p>`}
    ${c.is_enrolled && html`<${Progress} progress=${c.progress} id="course-progress" />`}
    <h2>Lessons</h2>
    ${c.lessons.length === 0
      ? html`<${Empty}>No lessons yet.<//>`
      : html`<ol class="course-lessons">
        ${c.lessons.map((l, i) => html`<${Lesson} key=${l.id} lesson=${l} n=${i + 1} enrolled=${!!c.is_enrolled}
          busy=${busy} onComplete=${complete} />`)}
      </ol>`}
    ${!c.is_enrolled && c.lessons.length > 0 && html`<p class="note">Enroll to read the lessons and track your progress.</p>`}
  </section>`;
}
