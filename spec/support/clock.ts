/** A clock the specs move by hand, so expiry tests never sleep. */
export class FakeClock {
	now: number;

	constructor(start = Date.now()) {
		this.now = start;
	}

	readonly read = (): number => this.now;

	advance(seconds: number): void {
		this.now += seconds * 1000;
	}
}
