// admin/pending.js: bounties and courses (guide 13, /admin/bounties and
// /admin/learning).
//
// /admin/bounties: GET /api/admin/bounties?status=&category=&search=, edit
// (PUT …/{id}: title, description, category, budget, deadline, status,
// featured), delete (DELETE, after a confirmation).
// /admin/learning: GET /api/admin/courses?is_published=&difficulty=&search=,
// create (POST), edit (PUT …/{id}), publish or unpublish, delete.
// Until the bounties and courses API is on this server (the route answers
// 404), each page says it arrives with that API.
import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { html, formatMoney, formatCount, Loading, ErrorBox } from '../../ui.js';
import { AdminLayout } from '../../admin/shell.js';
import {
  useAdminList, ListControls, DataTable, Pager, StatusBadge, countText, useConfirm, useAction, Outcome, Dialog, when, day,
} from '../../admin/ui.js';
import { Field, FormError, useSubmit } from '../auth.js';

const BOUNTY_STATUSES = [['all', 'All'], ['open', 'Open'], ['in_progress', 'In progress'], ['completed', 'Completed'], ['cancelled', 'Cancelled']];
const BOUNTY_CATEGORIES = ['characters', 'vehicles', 'architecture', 'environments', 'props', 'furniture', 'animals',
  'nature', 'sci-fi', 'fantasy', 'electronics', 'textures-materials', 'other'];
const DIFFICULTIES = ['beginner', 'intermediate', 'advanced'];
const COURSE_CATEGORIES = ['modeling', 'sculpting', 'texturing', 'animation', 'rigging', 'lighting', 'rendering',
  'game-assets', '3d-printing', 'business', 'other'];

function Soon({ what, api: path }) {
  return html`<div class="state notice" role="status">
    <p>${what} arrive with the bounties and courses API, which this server does not have yet.</p>
    <p class="hint-muted">This page uses ${path}.</p>
  </div>`;
}

// ListBody, with a 404 from the list itself meaning "not on this server".
function Body({ list, query, noun, soon, children }) {
  if (list.loading) return html`<${Loading} label=${`Loading ${noun}…`} />`;
  if (list.error && list.error.status === 404) return soon;
  if (list.error) return html`<${ErrorBox} error=${list.error} onRetry=${list.reload} />`;
  return html`<p class="count" role="status">${countText(list.data.total, noun)}</p>
    ${children(list.data)}
    <${Pager} query=${query} data=${list.data} />`;
}

// ---------------------------------------------------------------- bounties

function BountyForm({ bounty: b, signal, onSaved, onClose }) {
  const f = useSubmit(async (data) => {
    const body = {
      title: data.get('title').trim(), description: data.get('description'), category: data.get('category'),
      status: data.get('status'), budget: Number(data.get('budget')), is_featured: data.get('is_featured') === 'on',
    };
    const deadline = data.get('deadline');
    if (deadline) body.deadline = deadline;
    onSaved(await api(`/api/admin/bounties/${b.id}`, { method: 'PUT', body, signal }));
  });
  return html`<${Dialog} labelId="bounty-form-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="bounty-form-title">Edit “${b.title}”</h2>
      <${FormError} error=${f.error} wait=${f.wait} shown=${['title', 'description', 'category', 'status', 'budget', 'deadline', 'is_featured']} />
      <div class="form-grid">
        <${Field} id="bounty-title" class="wide" label="Title" name="title" required minlength="3" maxlength="120"
          defaultValue=${b.title} errors=${f.fields.title} />
        <${Field} id="bounty-description" class="wide" as="textarea" label="Description" name="description" rows="4"
          defaultValue=${b.description} errors=${f.fields.description} />
        <${Field} id="bounty-category" as="select" label="Category" name="category" errors=${f.fields.category}>
          ${BOUNTY_CATEGORIES.map((v) => html`<option value=${v} selected=${v === b.category}>${v}</option>`)}
        <//>
        <${Field} id="bounty-status" as="select" label="Status" name="status" errors=${f.fields.status}>
          ${BOUNTY_STATUSES.slice(1).map(([v, t]) => html`<option value=${v} selected=${v === b.status}>${t}</option>`)}
        <//>
        <${Field} id="bounty-budget" label=${`Budget (${b.currency || 'USD'})`} name="budget" type="number" min="1" step="0.01"
          defaultValue=${String(b.budget)} errors=${f.fields.budget} />
        <${Field} id="bounty-deadline" label="Deadline" name="deadline" type="date"
          defaultValue=${b.deadline ? b.deadline.slice(0, 10) : ''} errors=${f.fields.deadline} />
        <div class="field check">
          <input id="bounty-featured" type="checkbox" name="is_featured" defaultChecked=${b.is_featured} />
          <label for="bounty-featured">Featured</label>
        </div>
      </div>
      <div class="actions">
        <button type="submit" disabled=${f.busy}>${f.busy ? 'Saving…' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Bounties({ query, signal }) {
  const list = useAdminList('/api/admin/bounties', query, { params: ['status', 'category', 'search'], signal });
  const [editing, setEditing] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const remove = async (b) => {
    if (!(await confirm({
      title: `Delete the bounty “${b.title}”?`, body: `Its ${formatCount(b.applications_count)} applications go with it.`,
      confirm: 'Delete bounty', danger: true,
    }))) return;
    act.run(async () => {
      await api(`/api/admin/bounties/${b.id}`, { method: 'DELETE', signal });
      list.reload();
    }, `“${b.title}” is deleted.`);
  };
  const columns = [
    { label: 'Bounty', class: 'wrap', cell: (b) => html`<a href=${`/bounties/${b.id}`}>${b.title}</a>${b.is_featured ? html` <${StatusBadge} status="featured" />` : ''}` },
    { label: 'Posted by', cell: (b) => (b.owner ? `@${b.owner.username}` : '') },
    { label: 'Category', cell: (b) => b.category },
    { label: 'Budget', class: 'num', cell: (b) => formatMoney(b.budget, b.currency) },
    { label: 'Deadline', cell: (b) => day(b.deadline) },
    { label: 'Status', cell: (b) => html`<${StatusBadge} status=${b.status === 'in_progress' ? 'pending' : b.status === 'cancelled' ? 'inactive' : b.status}
      label=${(BOUNTY_STATUSES.find(([v]) => v === b.status) || [0, b.status])[1]} />` },
    { label: 'Applications', class: 'num', cell: (b) => formatCount(b.applications_count) },
    { label: 'Actions', cell: (b) => html`<div class="row-actions">
      <button type="button" class="secondary" onClick=${() => setEditing(b)} aria-label=${`Edit ${b.title}`}>Edit</button>
      <button type="button" class="danger" disabled=${act.busy} onClick=${() => remove(b)} aria-label=${`Delete ${b.title}`}>Delete</button>
    </div>` },
  ];
  const soon = html`<${Soon} what="Bounty moderation tools" api="GET, PUT and DELETE /api/admin/bounties" />`;
  return html`<${ListControls} query=${query} idPrefix="bounties" search="Search bounties"
      filters=${[{ name: 'status', label: 'Status', options: BOUNTY_STATUSES },
        { name: 'category', label: 'Category', options: [['all', 'All'], ...BOUNTY_CATEGORIES.map((c) => [c, c])] }]} />
    <${Outcome} outcome=${act.outcome} />
    <${Body} list=${list} query=${query} noun="bounties" soon=${soon}>
      ${(d) => html`<${DataTable} caption="Bounties" columns=${columns} rows=${d.items} empty="No bounties here." />`}
    <//>
    ${editing && html`<${BountyForm} bounty=${editing} signal=${signal} onClose=${() => setEditing(null)}
      onSaved=${(b) => { setEditing(null); act.run(async () => list.reload(), `“${b.title}” is saved.`); }} />`}
    ${dialog}`;
}

export function AdminBountiesPage({ query, signal }) {
  return html`<${AdminLayout} title="Bounties">
    <${Bounties} query=${query} signal=${signal} />
  <//>`;
}

// ---------------------------------------------------------------- courses

function CourseForm({ course, signal, onSaved, onClose }) {
  const creating = !course;
  const c = course || { title: '', description: '', difficulty: 'beginner', category: 'modeling', thumbnail_url: '', instructor: '', is_published: false };
  const f = useSubmit(async (data) => {
    const body = {
      title: data.get('title').trim(), description: data.get('description'), difficulty: data.get('difficulty'),
      category: data.get('category'), instructor: data.get('instructor').trim(),
      thumbnail_url: data.get('thumbnail_url').trim() || null, is_published: data.get('is_published') === 'on',
    };
    const saved = await api(creating ? '/api/admin/courses' : `/api/admin/courses/${c.id}`,
      { method: creating ? 'POST' : 'PUT', body, signal });
    onSaved(saved, creating);
  });
  return html`<${Dialog} labelId="course-form-title" onClose=${onClose}>
    <form class="stack" onSubmit=${f.onSubmit} novalidate>
      <h2 id="course-form-title">${creating ? 'New course' : `Edit “${c.title}”`}</h2>
      <${FormError} error=${f.error} wait=${f.wait}
        shown=${['title', 'description', 'difficulty', 'category', 'instructor', 'thumbnail_url', 'is_published']} />
      <div class="form-grid">
        <${Field} id="course-title" class="wide" label="Title" name="title" required minlength="3" maxlength="120"
          defaultValue=${c.title} errors=${f.fields.title} />
        <${Field} id="course-description" class="wide" as="textarea" label="Description" name="description" rows="4"
          defaultValue=${c.description || ''} errors=${f.fields.description} />
        <${Field} id="course-difficulty" as="select" label="Difficulty" name="difficulty" errors=${f.fields.difficulty}>
          ${DIFFICULTIES.map((v) => html`<option value=${v} selected=${v === c.difficulty}>${v}</option>`)}
        <//>
        <${Field} id="course-category" as="select" label="Category" name="category" errors=${f.fields.category}>
          ${COURSE_CATEGORIES.map((v) => html`<option value=${v} selected=${v === c.category}>${v}</option>`)}
        <//>
        <${Field} id="course-instructor" label="Instructor" name="instructor" maxlength="100"
          defaultValue=${c.instructor || ''} errors=${f.fields.instructor} />
        <${Field} id="course-thumb" label="Thumbnail URL (optional)" name="thumbnail_url" type="url"
          defaultValue=${c.thumbnail_url || ''} errors=${f.fields.thumbnail_url} />
        <div class="field check">
          <input id="course-published" type="checkbox" name="is_published" defaultChecked=${c.is_published} />
          <label for="course-published">Published</label>
        </div>
      </div>
      <div class="actions">
        <button type="submit" disabled=${f.busy}>${f.busy ? 'Saving…' : creating ? 'Create course' : 'Save'}</button>
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      </div>
    </form>
  <//>`;
}

function Courses({ query, signal }) {
  const list = useAdminList('/api/admin/courses', query, { params: ['is_published', 'difficulty', 'search'], signal });
  const [editing, setEditing] = useState(null);
  const [confirm, dialog] = useConfirm();
  const act = useAction();
  const publish = (c, yes) => act.run(async () => {
    await api(`/api/admin/courses/${c.id}`, { method: 'PUT', body: { is_published: yes }, signal });
    list.reload();
  }, yes ? `“${c.title}” is published.` : `“${c.title}” is back to draft.`);
  const remove = async (c) => {
    if (!(await confirm({
      title: `Delete the course “${c.title}”?`,
      body: `Its ${formatCount(c.lessons_count)} lessons and the progress of ${formatCount(c.enrolled_count)} learners go with it.`,
      confirm: 'Delete course', danger: true,
    }))) return;
    act.run(async () => {
      await api(`/api/admin/courses/${c.id}`, { method: 'DELETE', signal });
      list.reload();
    }, `“${c.title}” is deleted.`);
  };
  const columns = [
    { label: 'Course', class: 'wrap', cell: (c) => html`<a href=${`/learn/${c.id}`}>${c.title}</a>
      ${c.instructor && html`<br /><small class="hint-muted">${c.instructor}</small>`}` },
    { label: 'Category', cell: (c) => c.category },
    { label: 'Difficulty', cell: (c) => c.difficulty },
    { label: 'Lessons', class: 'num', cell: (c) => formatCount(c.lessons_count) },
    { label: 'Enrolled', class: 'num', cell: (c) => formatCount(c.enrolled_count) },
    { label: 'Status', cell: (c) => html`<${StatusBadge} status=${c.is_published ? 'published' : 'draft'} />` },
    { label: 'Updated', cell: (c) => when(c.updated_at) },
    { label: 'Actions', cell: (c) => html`<div class="row-actions">
      <button type="button" class="secondary" disabled=${act.busy} onClick=${() => publish(c, !c.is_published)}
        aria-label=${`${c.is_published ? 'Unpublish' : 'Publish'} ${c.title}`}>${c.is_published ? 'Unpublish' : 'Publish'}</button>
      <button type="button" class="secondary" onClick=${() => setEditing(c)} aria-label=${`Edit ${c.title}`}>Edit</button>
      <button type="button" class="danger" disabled=${act.busy} onClick=${() => remove(c)} aria-label=${`Delete ${c.title}`}>Delete</button>
    </div>` },
  ];
  const soon = html`<${Soon} what="Course management tools" api="GET, POST, PUT and DELETE /api/admin/courses" />`;
  return html`<div class="admin-bar">
      <${ListControls} query=${query} idPrefix="courses" search="Search courses"
        filters=${[{ name: 'is_published', label: 'Show', options: [['all', 'All'], ['true', 'Published'], ['false', 'Drafts']] },
          { name: 'difficulty', label: 'Difficulty', options: [['all', 'All'], ...DIFFICULTIES.map((d) => [d, d])] }]} />
      ${!(list.error && list.error.status === 404) && html`<button type="button" onClick=${() => setEditing('new')}>New course</button>`}
    </div>
    <${Outcome} outcome=${act.outcome} />
    <${Body} list=${list} query=${query} noun="courses" soon=${soon}>
      ${(d) => html`<${DataTable} caption="Courses" columns=${columns} rows=${d.items} empty="No courses here." />`}
    <//>
    ${editing && html`<${CourseForm} course=${editing === 'new' ? null : editing} signal=${signal}
      onClose=${() => setEditing(null)}
      onSaved=${(c, created) => { setEditing(null); act.run(async () => list.reload(), created ? `“${c.title}” is created.` : `“${c.title}” is saved.`); }} />`}
    ${dialog}`;
}

export function AdminLearningPage({ query, signal }) {
  return html`<${AdminLayout} title="Learning">
    <${Courses} query=${query} signal=${signal} />
  <//>`;
}
