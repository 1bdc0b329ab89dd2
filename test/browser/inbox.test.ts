import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CountersignClient } from '../../src/client/index.js';
import { PAYMENT_ONE_APPROVER, PAYMENT_TWO_APPROVERS } from '../support/gate.js';
import { REPO_ROOT, startTestServer, type TestServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'browser');

let server: TestServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
let tenantCounter = 0;

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'web', 'index.html'))) throw new Error('the inbox is not built: run npm run setup');
  // A fast sweep: expired requests leave pending (and every page) promptly.
  server = await startTestServer({ expirySweepMs: 200 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterEach(async (context) => {
  // A failing case leaves a screenshot of every page it had open.
  if (context.task.result?.state === 'fail') {
    mkdirSync(SCREENSHOTS, { recursive: true });
    let index = 0;
    for (const browserContext of contexts) {
      for (const page of browserContext.pages()) {
        await page.screenshot({ path: join(SCREENSHOTS, `${context.task.name.replace(/\W+/g, '-')}-${index++}.png`), fullPage: true }).catch(() => {});
      }
    }
  }
  for (const browserContext of contexts.splice(0)) await browserContext.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

function tenant(): string {
  tenantCounter += 1;
  return `inbox-${process.pid}-${tenantCounter}`;
}

/** A page of a browser context of its own (closed after the test), at the inbox (`path` after its URL), signed out. */
async function openPage(path = ''): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${server.url}${path}`);
  return page;
}

/** A page signed in through the form with a token for `subject`. */
async function signedIn(subject: string, tenantName: string, roles: string[], options: { width?: number; dark?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1100, height: 900 },
    colorScheme: options.dark ? 'dark' : 'light',
  });
  contexts.push(context);
  const page = await context.newPage();
  const violations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  (page as Page & { cspViolations: string[] }).cspViolations = violations;
  await page.goto(server.url);
  await page.getByRole('textbox', { name: 'Caller token' }).fill(await server.token(subject, tenantName, roles));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: /Pending requests/ }).waitFor();
  return page;
}

async function agentFor(tenantName: string): Promise<CountersignClient> {
  return new CountersignClient({ url: server.url, token: await server.token('agent-7', tenantName, ['agent']) });
}

const item = (page: Page, text: string) => page.getByRole('article').filter({ hasText: text });

describe('the approvals inbox', () => {
  it('is served at / with a strict Content-Security-Policy', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("frame-ancestors 'none'");
    expect(await response.text()).toContain('<div id="app">');
  });

  it('signs in with a caller token kept in session storage only, and signs out', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver']);
    await expect(page.getByText('alice')).toBeDefined();
    expect(page.url()).not.toContain('ey');
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['countersign.callerToken']);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('textbox', { name: 'Caller token' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect((page as Page & { cspViolations: string[] }).cspViolations).toEqual([]);
  });

  it('refuses a token the server does not accept', async () => {
    const page = await openPage();
    await page.getByRole('textbox', { name: 'Caller token' }).fill('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.forged');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid or has expired' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('mints a development token for a chosen subject and roles', async () => {
    const page = await openPage();
    await page.getByRole('textbox', { name: 'Subject' }).fill('dev-dora');
    await page.getByRole('textbox', { name: 'Tenant' }).fill(tenant());
    await page.getByRole('checkbox', { name: 'auditor' }).check();
    await page.getByRole('button', { name: 'Mint and sign in' }).click();
    await page.getByText('dev-dora').waitFor();
    await page.getByText('(approver, auditor)').waitFor();
    await page.getByRole('link', { name: 'Audit' }).waitFor();
  });

  it('shows an agent\'s request live, and drops it from a second approver\'s page when the first approves', async () => {
    const name = tenant();
    const [first, second] = await Promise.all([signedIn('alice', name, ['approver']), signedIn('bob', name, ['approver'])]);
    const agent = await agentFor(name);
    const { approval } = await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/LIVE-1' });
    for (const page of [first, second]) {
      const row = item(page, 'invoice/LIVE-1');
      await row.waitFor();
      expect(await row.textContent()).toContain('payment');
      expect(await row.textContent()).toContain('0 of 1 given, 1 remaining');
      expect(await row.textContent()).toMatch(/medium risk|low risk|high risk/);
    }
    await item(first, 'invoice/LIVE-1').getByRole('button', { name: 'Approve' }).click();
    await first.getByRole('status').filter({ hasText: 'Approved: payment on invoice/LIVE-1' }).waitFor();
    await item(second, 'invoice/LIVE-1').waitFor({ state: 'detached', timeout: 1_000 });
    expect((await agent.approval(approval.id)).status).toBe('APPROVED');
  });

  it('shows one approval remaining on a two-approver request after the first vote', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver']);
    const agent = await agentFor(name);
    await agent.requestApproval({ ...PAYMENT_TWO_APPROVERS, resource: 'invoice/TWO-1' });
    const row = item(page, 'invoice/TWO-1');
    await row.waitFor();
    expect(await row.textContent()).toContain('0 of 2 given, 2 remaining');
    await row.getByRole('button', { name: 'Approve' }).click();
    // High risk: the approval is confirmed in a dialog first.
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm approval' }).click();
    await row.getByText('1 of 2 given, 1 remaining').waitFor();
  });

  it('narrows the list with the filters, and shows every request again with All', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver']);
    const agent = await agentFor(name);
    await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/FILTER-1' });
    await agent.requestApproval({ ...PAYMENT_TWO_APPROVERS, resource: 'invoice/FILTER-2' });
    await item(page, 'invoice/FILTER-1').waitFor();
    await item(page, 'invoice/FILTER-2').waitFor();
    const action = page.getByRole('combobox', { name: 'Action' });
    expect(await action.locator('option').allTextContents()).toEqual(['All', 'payment']);
    await page.getByRole('combobox', { name: 'Risk' }).selectOption('high');
    await item(page, 'invoice/FILTER-1').waitFor({ state: 'detached' });
    await item(page, 'invoice/FILTER-2').waitFor();
    await page.getByRole('combobox', { name: 'Risk' }).selectOption('');
    await item(page, 'invoice/FILTER-1').waitFor();
    await action.selectOption('payment');
    await page.getByRole('combobox', { name: 'Agent' }).selectOption('agent-7');
    expect(await page.getByRole('article').count()).toBe(2);
  });

  it('needs a comment to reject, and records it', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver']);
    const agent = await agentFor(name);
    const { approval } = await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/REJ-1' });
    const row = item(page, 'invoice/REJ-1');
    await row.getByRole('button', { name: 'Reject' }).click();
    await row.getByRole('alert').filter({ hasText: 'A comment is required to reject' }).waitFor();
    expect((await agent.approval(approval.id)).status).toBe('PENDING');
    await row.getByRole('textbox', { name: 'Comment' }).fill('wrong supplier');
    await row.getByRole('button', { name: 'Reject' }).click();
    await row.waitFor({ state: 'detached' });
    const rejected = await agent.approval(approval.id);
    expect(rejected).toMatchObject({ status: 'REJECTED', decisions: [{ approver: 'alice', comment: 'wrong supplier' }] });
  });

  it('approves a batch of selected requests with one comment', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver']);
    const agent = await agentFor(name);
    const ids: string[] = [];
    for (const resource of ['invoice/B-1', 'invoice/B-2', 'invoice/B-3']) {
      ids.push((await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource })).approval.id);
    }
    for (const resource of ['invoice/B-1', 'invoice/B-3']) await page.getByRole('checkbox', { name: `Select payment on ${resource}` }).check();
    await page.getByRole('textbox', { name: 'Comment for the selected requests' }).fill('month-end run');
    await page.getByRole('button', { name: 'Approve selected' }).click();
    await page.getByRole('status').filter({ hasText: '2 of 2 approved.' }).waitFor();
    await item(page, 'invoice/B-1').waitFor({ state: 'detached' });
    await item(page, 'invoice/B-2').waitFor();
    const statuses = await Promise.all(ids.map(async (id) => (await agent.approval(id)).status));
    expect(statuses).toEqual(['APPROVED', 'PENDING', 'APPROVED']);
  });

  it('drops a request from the list when it expires', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver']);
    const agent = await agentFor(name);
    await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/EXP-1', ttlSeconds: 2 });
    await item(page, 'invoice/EXP-1').waitFor();
    await item(page, 'invoice/EXP-1').waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('approves with the keyboard alone', async () => {
    const name = tenant();
    const page = await openPage();
    const token = await server.token('kim', name, ['approver']);
    await page.keyboard.press('Tab');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Pending requests/ }).waitFor();
    const agent = await agentFor(name);
    const { approval } = await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/KEY-1' });
    await item(page, 'invoice/KEY-1').waitFor();
    for (let presses = 0; presses < 40; presses += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
      if (focused === 'Approve') break;
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Approve');
    await page.keyboard.press('Enter');
    await item(page, 'invoice/KEY-1').waitFor({ state: 'detached' });
    expect((await agent.approval(approval.id)).status).toBe('APPROVED');
  });

  it('fits a 360 px wide screen in dark mode, and opens the detail with the reasons and the context', async () => {
    const name = tenant();
    const page = await signedIn('alice', name, ['approver'], { width: 360, dark: true });
    const agent = await agentFor(name);
    await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/NARROW-1', context: { amount: 1500, currency: 'USD' } });
    await item(page, 'invoice/NARROW-1').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(18, 20, 24)');
    await item(page, 'invoice/NARROW-1').getByRole('link', { name: /Details of/ }).click();
    await page.getByRole('heading', { name: 'payment on invoice/NARROW-1' }).waitFor();
    await page.getByText('CS-220').waitFor();
    // The field CS-220 rests on is marked; the others are not.
    await page.locator('mark', { hasText: 'amount' }).waitFor();
    expect(await page.locator('mark').allTextContents()).toEqual(['amount']);
    await page.getByText('currency', { exact: true }).waitFor();
  });

  it('opens the request a notification links to (/?approval=<id>), through sign-in', async () => {
    const name = tenant();
    const agent = await agentFor(name);
    const { approval } = await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/LINKED-1' });
    const page = await openPage(`/?approval=${encodeURIComponent(approval.id)}`);
    await page.getByRole('textbox', { name: 'Caller token' }).fill(await server.token('alice', name, ['approver']));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'payment on invoice/LINKED-1' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Approved: payment on invoice/LINKED-1.').waitFor();
    expect((await agent.approval(approval.id)).status).toBe('APPROVED');
  });

  it('gives auditors the audit log and chain verification', async () => {
    const name = tenant();
    const agent = await agentFor(name);
    await agent.requestApproval({ ...PAYMENT_ONE_APPROVER, resource: 'invoice/AUD-1' });
    const page = await signedIn('carol', name, ['auditor']);
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('cell', { name: 'requested' }).first().waitFor();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByRole('status').filter({ hasText: 'The audit chain is intact: 1 events verified.' }).waitFor();
  });
});
