// bounty-flow.mjs: a bounty from posted to completed across two browsers
// (issue 14, point 9).  The owner posts it through the form on /bounties;
// the creator applies on its page; the owner accepts; the creator delivers
// one of their models; the owner completes.  Every step is done through the
// pages, each side in a browser context of its own.
//
// Input: {base, owner: {email, password}, creator: {email, password},
// model_title}; the creator owns a model titled model_title.
// Output adds `bounty_id`.
import { runScript, newPage, signIn, settle, takeProblems } from './lib.mjs';

await runScript('bounty-flow', async (run, cfg) => {
  const owner = await newPage(cfg);
  const creator = await newPage(cfg);
  for (const p of [owner, creator]) p.on('dialog', (d) => d.accept());
  const title = `Lighthouse commission ${Date.now().toString(36)}`;
  let path = null;
  const url = () => cfg.base + (path || '/bounties');
  await run.step('both sign in', cfg.base, async () => {
    await signIn(owner, cfg, cfg.owner.email, cfg.owner.password);
    await signIn(creator, cfg, cfg.creator.email, cfg.creator.password);
  });
  if (run.failures.length) return;

  await run.step('the owner posts a bounty', url, async () => {
    await owner.goto('/bounties', { waitUntil: 'load' });
    await settle(owner);
    await owner.getByRole('button', { name: 'Post a bounty' }).click();
    await owner.getByLabel('Title').fill(title);
    await owner.getByLabel('What you need').fill('A lighthouse with a rotating lamp, under 5k triangles.');
    await owner.getByLabel('Budget (USD)').fill('150');
    await owner.getByRole('button', { name: 'Post bounty' }).click();
    await owner.waitForURL(/\/bounties\/\d+$/);
    path = new URL(owner.url()).pathname;
    run.extra.bounty_id = Number(path.split('/').pop());
    await owner.getByRole('heading', { level: 1, name: title }).waitFor();
  });
  if (run.failures.length) return;

  await run.step('the creator applies', url, async () => {
    await creator.goto(path, { waitUntil: 'load' });
    await settle(creator);
    await creator.getByLabel('Your pitch').fill('I have modelled a dozen lighthouses, happy to help.');
    await creator.getByLabel('Your price (USD)').fill('140');
    await creator.getByRole('button', { name: 'Send application' }).click();
    await creator.getByText('your application is pending').waitFor();
  });

  await run.step('the owner accepts the application', url, async () => {
    await owner.reload({ waitUntil: 'load' });
    await settle(owner);
    await owner.getByRole('button', { name: /^Accept / }).click();
    await owner.getByText('Being made by').waitFor();
    await owner.getByText('In progress').first().waitFor();
  });

  await run.step('the creator delivers a model', url, async () => {
    await creator.reload({ waitUntil: 'load' });
    await settle(creator);
    await creator.getByLabel('Message to the owner').fill('Here it is: the lamp is a separate object.');
    await creator.getByLabel('One of your models').selectOption({ label: cfg.model_title });
    await creator.getByRole('button', { name: 'Deliver' }).click();
    await creator.getByText("Your delivery waits for the owner's answer.").waitFor();
  });

  await run.step('the owner completes the bounty', url, async () => {
    await owner.reload({ waitUntil: 'load' });
    await settle(owner);
    await owner.getByRole('link', { name: cfg.model_title }).waitFor();
    await owner.getByLabel('Message to the creator').fill('Perfect, thank you!');
    await owner.getByRole('button', { name: 'Accept and complete' }).click();
    await owner.getByText('Completed').first().waitFor();
  });

  await run.step('the creator sees it completed', url, async () => {
    await creator.reload({ waitUntil: 'load' });
    await settle(creator);
    await creator.getByText('Completed').first().waitFor();
    await creator.getByText('Perfect, thank you!').waitFor();
  });

  for (const [who, p] of [['owner', owner], ['creator', creator]]) {
    const problems = takeProblems(p);
    if (problems.length) run.fail(`console of the ${who}`, url(), problems.join('\n'));
  }
  await owner.context().close();
  await creator.context().close();
});
