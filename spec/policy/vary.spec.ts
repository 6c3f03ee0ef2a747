import assert from 'node:assert/strict';
import {languageSelected, normalizeVaryValue} from '../../lib/policy/vary.js';

describe('policy/vary', () => {
	it('ignores whitespace around list members and combines field lines (vary-normalise-space, -combine)', () => {
		assert.equal(normalizeVaryValue('Foo', '1,2'), normalizeVaryValue('Foo', ' 1, 2 '));
		assert.equal(normalizeVaryValue('foo', '1, 2'), normalizeVaryValue('foo', ['1', '2']));
		assert.equal(normalizeVaryValue('foo', 'a="x, y" ,b'), 'a="x, y", b');
	});

	it('keeps order and case where they may matter', () => {
		assert.notEqual(normalizeVaryValue('Foo', '1, 2'), normalizeVaryValue('Foo', '2, 1'));
		assert.notEqual(normalizeVaryValue('Authorization', 'Bearer A'), normalizeVaryValue('Authorization', 'bearer a'));
	});

	it('leaves an absent header absent, apart from an empty one', () => {
		assert.equal(normalizeVaryValue('foo', undefined), undefined);
		assert.equal(normalizeVaryValue('foo', ''), '');
	});

	it('ignores Accept-Language order, case and whitespace (vary-normalise-lang-*)', () => {
		const stored = normalizeVaryValue('Accept-Language', 'en, de');
		for (const value of ['de, en', 'eN, De', ' en ,   de', 'en;q=1, de']) {
			assert.equal(normalizeVaryValue('accept-language', value), stored, value);
		}

		assert.notEqual(normalizeVaryValue('accept-language', 'en, de;q=0.5'), stored);
		assert.equal(normalizeVaryValue('accept-language', 'de;q=0.5, en'), 'en, de;q=0.5');
	});

	it('ignores Accept-Encoding order and case', () => {
		assert.equal(normalizeVaryValue('accept-encoding', 'gzip, br'), normalizeVaryValue('Accept-Encoding', 'BR,gzip'));
	});

	it('selects a stored Content-Language by the request\'s preferred languages (vary-normalise-lang-select)', () => {
		assert.equal(languageSelected('fr;q=0.5, de;q=1.0', 'de'), true);
		assert.equal(languageSelected('de-CH, fr;q=0.5', 'de-ch'), true);
		assert.equal(languageSelected('de', 'de-DE'), true);
		assert.equal(languageSelected('fr, de;q=0.5', 'de'), false);
		assert.equal(languageSelected('de;q=0', 'de'), false);
		assert.equal(languageSelected('de', undefined), false);
		assert.equal(languageSelected(undefined, 'de'), false);
	});
});
