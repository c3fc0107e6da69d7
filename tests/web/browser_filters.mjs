// Settings > Filters in a real browser (Debian's chromium via playwright-core):
//   node browser_filters.mjs BASE_URL SCREENSHOT_DIR ADDRESS RAW_ADDRESS PASSWORD
// ADDRESS has a folder Work and no filters: the empty page, two rules added
// through the form (one "Subject contains report -> move to Work"), listed,
// the second moved up and turned off, a third on the message text ("Message
// text contains invoice -> move to Work"); the pages on a phone-sized screen.
// RAW_ADDRESS has a hand-written script (put with the CLI): the text
// editor, a compile error shown beside the kept text. A screenshot of each
// step goes to SCREENSHOT_DIR.
import { check, exitWithResult, fail, launch, screenshotter } from './browserlib.mjs';

const [base, shots, address, rawAddress, password] = process.argv.slice(2);
const browser = await launch();
const shot = screenshotter(shots);

async function signIn(page, who) {
	await page.goto(`${base}/login`);
	await page.fill('#address', who);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

// The rightmost edge of anything in <main>: the page's own part fits.
const mainWidth = page => page.evaluate(() => {
	const m = document.querySelector('main');
	return Math.max(m.getBoundingClientRect().right, ...[...m.querySelectorAll('*')]
		.map(e => e.getBoundingClientRect().right));
});

const names = page => page.locator('.rules .rule h3').allTextContents();

try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(15000);
	await signIn(page, address);
	await page.goto(`${base}/settings`);
	await Promise.all([page.waitForNavigation({ url: /\/filters/ }), page.click('.subnav a:has-text("Filters")')]);
	check((await page.textContent('.card')).includes('no filter rules'), 'the filters page starts empty');
	check((await page.textContent('.card .hint')).includes('for good'), 'it says delete is for good');
	await shot(page, 'filters-01-empty');

	// the first rule
	await Promise.all([page.waitForNavigation({ url: /edit=new/ }), page.click('a:has-text("Add a rule")')]);
	await page.fill('#rule-name', 'Reports');
	await page.selectOption('#field0', 'subject');
	await page.selectOption('#op0', 'contains');
	await page.fill('#value0', 'report');
	await page.selectOption('#action0', 'move');
	await page.selectOption('#folder0', 'Work');
	await shot(page, 'filters-02-rule-form');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save rule")')]);
	check((await page.textContent('.notice')).includes('saved'), 'saving says so');
	check((await page.textContent('.rules')).includes('If Subject contains “report”: move to “Work”.'),
	      'the rule is listed with its summary');

	// a second rule: a size and a forward, refused first (no address)
	await Promise.all([page.waitForNavigation({ url: /edit=new/ }), page.click('a:has-text("Add a rule")')]);
	await page.fill('#rule-name', 'Big mail');
	await page.selectOption('#field0', 'size');
	await page.selectOption('#op0', 'over');
	await page.fill('#value0', '5M');
	await page.selectOption('#action0', 'forwardkeep');
	await Promise.all([page.waitForNavigation(), page.click('button:has-text("Save rule")')]);
	check((await page.textContent('.error')).includes('give one address'), 'a forward without an address is refused');
	check(await page.inputValue('#value0') === '5M' && await page.inputValue('#rule-name') === 'Big mail',
	      'the typed values are kept');
	await page.fill('#address0', 'me@elsewhere.example');
	await page.check('input[name=stop]');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save rule")')]);
	check(JSON.stringify(await names(page)) === '["Reports","Big mail"]', 'both rules are listed');

	// move the second up, turn it off
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }),
		page.locator('.rule', { hasText: 'Big mail' }).locator('button[value=up]').click()]);
	check(JSON.stringify(await names(page)) === '["Big mail","Reports"]', 'moved up');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }),
		page.locator('.rule', { hasText: 'Big mail' }).locator('button[value=toggle]').click()]);
	check(await page.locator('.rule.off', { hasText: 'Big mail' }).count() === 1, 'turned off');
	await shot(page, 'filters-03-rules');

	// the edit form of a kept rule
	await Promise.all([page.waitForNavigation({ url: /edit=0/ }),
		page.locator('.rule', { hasText: 'Big mail' }).locator('a:has-text("Edit")').click()]);
	check(await page.inputValue('#value0') === '5M' && await page.inputValue('#address0') === 'me@elsewhere.example' &&
	      !(await page.isChecked('input[name=enabled]')) && await page.isChecked('input[name=stop]'),
	      'the edit form shows the rule');
	await shot(page, 'filters-04-edit');

	// a third rule, on the message text
	await page.goto(`${base}/filters`);
	await Promise.all([page.waitForNavigation({ url: /edit=new/ }), page.click('a:has-text("Add a rule")')]);
	await page.fill('#rule-name', 'Invoices');
	await page.selectOption('#field0', { label: 'Message text' });
	await page.selectOption('#op0', 'contains');
	await page.fill('#value0', 'invoice');
	await page.selectOption('#action0', 'move');
	await page.selectOption('#folder0', 'Work');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button:has-text("Save rule")')]);
	check((await page.textContent('.rules')).includes('If Message text contains “invoice”: move to “Work”.'),
	      'the message text rule is listed with its summary');

	// a phone
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const p2 = await phone.newPage();
	p2.setDefaultTimeout(15000);
	await signIn(p2, address);
	for (const [path, name] of [['/filters', 'filters-05-phone-list'], ['/filters?edit=1', 'filters-06-phone-form']]) {
		await p2.goto(`${base}${path}`);
		const wide = await mainWidth(p2);
		check(wide <= 390 + 1, `${path} fits a phone screen (${Math.round(wide)}px wide)`);
		await shot(p2, name);
	}
	await phone.close();

	// a script that is not ours: the text editor
	const raw = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const p3 = await raw.newPage();
	p3.setDefaultTimeout(15000);
	await signIn(p3, rawAddress);
	await p3.goto(`${base}/filters`);
	check((await p3.textContent('.card')).includes('not made on this page'), 'a hand-written script is said to be one');
	const kept = (await p3.inputValue('#script-text')) + 'if nonsense { keep; }\n';
	await p3.fill('#script-text', kept);
	await Promise.all([p3.waitForNavigation(), p3.click('button:has-text("Save script")')]);
	check(/^Not saved: line \d+: /.test(await p3.textContent('#raw-error')), 'the compile error is shown');
	check(await p3.inputValue('#script-text') === kept, 'beside the kept text');
	check(await p3.getAttribute('#script-text', 'aria-describedby') === 'raw-error', 'and tied to it');
	await shot(p3, 'filters-07-raw-error');
	await raw.close();
} catch (e) {
	fail(e);
} finally {
	await browser.close();
}
exitWithResult();
