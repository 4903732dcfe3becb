/**
 * The Nexmark data model: an online auction site where people register, open auctions and bid.
 * Field names follow the Nexmark reference (`Person`, `Auction`, `Bid` of the Flink/Beam suites);
 * times are epoch milliseconds and prices whole numbers (`long`s in the Java suites).
 *
 * A stream of Nexmark events is one stream of the three record types, told apart by `kind` (a
 * discriminated union, the TypeScript idiom for the Java suites' `Event` wrapper with three
 * nullable fields).
 * @packageDocumentation
 */

/**
 * A new person registered.
 * @public
 */
export interface Person {
  /** Discriminator. */
  readonly kind: 'person';
  /** Person id, unique, from 1000 upwards in order of registration. */
  readonly id: number;
  /** "First Last". */
  readonly name: string;
  /** An e-mail address. */
  readonly emailAddress: string;
  /** Four groups of four digits. */
  readonly creditCard: string;
  /** One of ten US cities. */
  readonly city: string;
  /** One of six US states (AZ, CA, ID, OR, WA, WY). */
  readonly state: string;
  /** Event time, epoch ms. */
  readonly dateTime: number;
  /** Padding to the person's average size (200 bytes). */
  readonly extra: string;
}

/**
 * A new auction opened.
 * @public
 */
export interface Auction {
  /** Discriminator. */
  readonly kind: 'auction';
  /** Auction id, unique, from 1000 upwards in order of opening. */
  readonly id: number;
  /** Item name. */
  readonly itemName: string;
  /** Item description. */
  readonly description: string;
  /** Starting price. */
  readonly initialBid: number;
  /** Reserve price (above the starting price). */
  readonly reserve: number;
  /** Event time (when the auction opened), epoch ms. */
  readonly dateTime: number;
  /** When the auction closes, epoch ms (after `dateTime`). */
  readonly expires: number;
  /** Id of the selling person. */
  readonly seller: number;
  /** Category id, 10..14. */
  readonly category: number;
  /** Padding to the auction's average size (500 bytes). */
  readonly extra: string;
}

/**
 * A bid on an auction.
 * @public
 */
export interface Bid {
  /** Discriminator. */
  readonly kind: 'bid';
  /** Id of the auction bid on. */
  readonly auction: number;
  /** Id of the bidding person. */
  readonly bidder: number;
  /** The bid, in whole units (log-uniform over 100 .. 100,000,000). */
  readonly price: number;
  /** Event time, epoch ms. */
  readonly dateTime: number;
  /** Padding to the bid's average size (100 bytes). */
  readonly extra: string;
}

/**
 * One Nexmark event: a person, an auction or a bid.
 * @public
 */
export type NexmarkEvent = Person | Auction | Bid;

/**
 * Whether an event is a bid (the `bid` view of the Nexmark SQL suite).
 * @public
 */
export const isBid = (e: NexmarkEvent): boolean => e.kind === 'bid';

/**
 * Whether an event is a new person.
 * @public
 */
export const isPerson = (e: NexmarkEvent): boolean => e.kind === 'person';

/**
 * Whether an event is a new auction.
 * @public
 */
export const isAuction = (e: NexmarkEvent): boolean => e.kind === 'auction';
