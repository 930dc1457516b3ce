/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError, $TypeError = $util.global.TypeError, $Array = $util.global.Array, $Number = $util.global.Number, $isFinite = $util.global.isFinite, $String = $util.global.String;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const examples = $root.examples = (() => {

    /**
     * Namespace examples.
     * @exports examples
     * @namespace
     */
    const examples = {};

    examples.vivaldi = (function() {

        /**
         * Namespace vivaldi.
         * @memberof examples
         * @namespace
         */
        const vivaldi = {};

        vivaldi.Coordinate = (function() {

            /**
             * Properties of a Coordinate.
             * @typedef {Object} examples.vivaldi.Coordinate.$Properties
             * @property {Array.<number>|null} [vec] Coordinate vec
             * @property {number|null} [error] Coordinate error
             * @property {number|null} [adjustment] Coordinate adjustment
             * @property {number|null} [height] Coordinate height
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Coordinate.
             * @memberof examples.vivaldi
             * @interface ICoordinate
             * @augments examples.vivaldi.Coordinate.$Properties
             * @deprecated Use examples.vivaldi.Coordinate.$Properties instead.
             */

            /**
             * Shape of a Coordinate.
             * @typedef {examples.vivaldi.Coordinate.$Properties} examples.vivaldi.Coordinate.$Shape
             */

            /**
             * Constructs a new Coordinate.
             * @memberof examples.vivaldi
             * @classdesc Represents a Coordinate.
             * @constructor
             * @param {examples.vivaldi.Coordinate.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Coordinate = function (p) {
                this.vec = [];
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * Coordinate vec.
             * @member {Array.<number>} vec
             * @memberof examples.vivaldi.Coordinate
             * @instance
             */
            Coordinate.prototype.vec = $util.emptyArray;

            /**
             * Coordinate error.
             * @member {number} error
             * @memberof examples.vivaldi.Coordinate
             * @instance
             */
            Coordinate.prototype.error = 0;

            /**
             * Coordinate adjustment.
             * @member {number} adjustment
             * @memberof examples.vivaldi.Coordinate
             * @instance
             */
            Coordinate.prototype.adjustment = 0;

            /**
             * Coordinate height.
             * @member {number} height
             * @memberof examples.vivaldi.Coordinate
             * @instance
             */
            Coordinate.prototype.height = 0;

            /**
             * Creates a new Coordinate instance using the specified properties.
             * @function create
             * @memberof examples.vivaldi.Coordinate
             * @static
             * @param {examples.vivaldi.Coordinate.$Properties=} [properties] Properties to set
             * @returns {examples.vivaldi.Coordinate} Coordinate instance
             * @type {{
             *   (properties: examples.vivaldi.Coordinate.$Shape): examples.vivaldi.Coordinate & examples.vivaldi.Coordinate.$Shape;
             *   (properties?: examples.vivaldi.Coordinate.$Properties): examples.vivaldi.Coordinate;
             * }}
             */
            Coordinate.create = function(properties) {
                return new Coordinate(properties);
            };

            /**
             * Encodes the specified Coordinate message. Does not implicitly {@link examples.vivaldi.Coordinate.verify|verify} messages.
             * @function encode
             * @memberof examples.vivaldi.Coordinate
             * @static
             * @param {examples.vivaldi.Coordinate.$Properties} m Coordinate message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Coordinate.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.vec != null && m.vec.length) {
                    w.uint32(/* id 1, wireType 2 =*/10).doubles(m.vec);
                }
                if (m.error != null && $Object.hasOwnProperty.call(m, "error") && !$Object.is(m.error, 0))
                    w.uint32(/* id 2, wireType 1 =*/17).double(m.error);
                if (m.adjustment != null && $Object.hasOwnProperty.call(m, "adjustment") && !$Object.is(m.adjustment, 0))
                    w.uint32(/* id 3, wireType 1 =*/25).double(m.adjustment);
                if (m.height != null && $Object.hasOwnProperty.call(m, "height") && !$Object.is(m.height, 0))
                    w.uint32(/* id 4, wireType 1 =*/33).double(m.height);
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a Coordinate message from the specified reader or buffer.
             * @function decode
             * @memberof examples.vivaldi.Coordinate
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {examples.vivaldi.Coordinate & examples.vivaldi.Coordinate.$Shape} Coordinate
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Coordinate.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.examples.vivaldi.Coordinate();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u === 2) {
                                if (!(m.vec && m.vec.length))
                                    m.vec = [];
                                r.doubles(m.vec);
                                continue;
                            }
                            if (u !== 1)
                                break;
                            if (!(m.vec && m.vec.length))
                                m.vec = [];
                            m.vec.push(r.double());
                            continue;
                        }
                    case 2: {
                            if (u !== 1)
                                break;
                            if (!$Object.is(v = r.double(), 0))
                                m.error = v;
                            else
                                delete m.error;
                            continue;
                        }
                    case 3: {
                            if (u !== 1)
                                break;
                            if (!$Object.is(v = r.double(), 0))
                                m.adjustment = v;
                            else
                                delete m.adjustment;
                            continue;
                        }
                    case 4: {
                            if (u !== 1)
                                break;
                            if (!$Object.is(v = r.double(), 0))
                                m.height = v;
                            else
                                delete m.height;
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Creates a Coordinate message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof examples.vivaldi.Coordinate
             * @static
             * @param {Object.<string,*>} d Plain object
             * @returns {examples.vivaldi.Coordinate} Coordinate
             */
            Coordinate.fromObject = function (d, q) {
                if (d instanceof $root.examples.vivaldi.Coordinate)
                    return d;
                if (!$util.isObject(d))
                    throw $TypeError(".examples.vivaldi.Coordinate: object expected");
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                var m = new $root.examples.vivaldi.Coordinate();
                if (d.vec) {
                    if (!$Array.isArray(d.vec))
                        throw $TypeError(".examples.vivaldi.Coordinate.vec: array expected");
                    m.vec = $Array(d.vec.length);
                    for (var i = 0; i < d.vec.length; ++i) {
                        m.vec[i] = $Number(d.vec[i]);
                    }
                }
                if (d.error != null) {
                    if (!$Object.is($Number(d.error), 0)) {
                        m.error = $Number(d.error);
                    }
                }
                if (d.adjustment != null) {
                    if (!$Object.is($Number(d.adjustment), 0)) {
                        m.adjustment = $Number(d.adjustment);
                    }
                }
                if (d.height != null) {
                    if (!$Object.is($Number(d.height), 0)) {
                        m.height = $Number(d.height);
                    }
                }
                return m;
            };

            /**
             * Creates a plain object from a Coordinate message. Also converts values to other types if specified.
             * @function toObject
             * @memberof examples.vivaldi.Coordinate
             * @static
             * @param {examples.vivaldi.Coordinate} m Coordinate
             * @param {$protobuf.IConversionOptions} [o] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            Coordinate.toObject = function (m, o, q) {
                if (!o)
                    o = {};
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                var d = {};
                if (o.arrays || o.defaults) {
                    d.vec = [];
                }
                if (o.defaults) {
                    d.error = 0;
                    d.adjustment = 0;
                    d.height = 0;
                }
                if (m.vec && m.vec.length) {
                    d.vec = $Array(m.vec.length);
                    for (var j = 0; j < m.vec.length; ++j) {
                        d.vec[j] = o.json && !$isFinite(m.vec[j]) ? $String(m.vec[j]) : m.vec[j];
                    }
                }
                if (m.error != null && $Object.hasOwnProperty.call(m, "error")) {
                    d.error = o.json && !$isFinite(m.error) ? $String(m.error) : m.error;
                }
                if (m.adjustment != null && $Object.hasOwnProperty.call(m, "adjustment")) {
                    d.adjustment = o.json && !$isFinite(m.adjustment) ? $String(m.adjustment) : m.adjustment;
                }
                if (m.height != null && $Object.hasOwnProperty.call(m, "height")) {
                    d.height = o.json && !$isFinite(m.height) ? $String(m.height) : m.height;
                }
                return d;
            };

            /**
             * Converts this Coordinate to JSON.
             * @function toJSON
             * @memberof examples.vivaldi.Coordinate
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            Coordinate.prototype.toJSON = function() {
                return Coordinate.toObject(this, $protobuf.util.toJSONOptions);
            };

            /**
             * Gets the type url for Coordinate
             * @function getTypeUrl
             * @memberof examples.vivaldi.Coordinate
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            Coordinate.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/examples.vivaldi.Coordinate";
            };

            return Coordinate;
        })();

        vivaldi.CoordinateUpdated = (function() {

            /**
             * Properties of a CoordinateUpdated.
             * @typedef {Object} examples.vivaldi.CoordinateUpdated.$Properties
             * @property {string|null} [node] CoordinateUpdated node
             * @property {examples.vivaldi.Coordinate.$Properties|null} [coordinate] CoordinateUpdated coordinate
             * @property {string|null} [peer] CoordinateUpdated peer
             * @property {number|null} [rttMs] CoordinateUpdated rttMs
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a CoordinateUpdated.
             * @memberof examples.vivaldi
             * @interface ICoordinateUpdated
             * @augments examples.vivaldi.CoordinateUpdated.$Properties
             * @deprecated Use examples.vivaldi.CoordinateUpdated.$Properties instead.
             */

            /**
             * Shape of a CoordinateUpdated.
             * @typedef {examples.vivaldi.CoordinateUpdated.$Properties} examples.vivaldi.CoordinateUpdated.$Shape
             */

            /**
             * Constructs a new CoordinateUpdated.
             * @memberof examples.vivaldi
             * @classdesc Represents a CoordinateUpdated.
             * @constructor
             * @param {examples.vivaldi.CoordinateUpdated.$Properties=} [p] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const CoordinateUpdated = function (p) {
                if (p)
                    for (var ks = $Object.keys(p), i = 0; i < ks.length; ++i)
                        if (p[ks[i]] != null && ks[i] !== "__proto__")
                            this[ks[i]] = p[ks[i]];
            };

            /**
             * CoordinateUpdated node.
             * @member {string} node
             * @memberof examples.vivaldi.CoordinateUpdated
             * @instance
             */
            CoordinateUpdated.prototype.node = "";

            /**
             * CoordinateUpdated coordinate.
             * @member {examples.vivaldi.Coordinate.$Properties|null|undefined} coordinate
             * @memberof examples.vivaldi.CoordinateUpdated
             * @instance
             */
            CoordinateUpdated.prototype.coordinate = null;

            /**
             * CoordinateUpdated peer.
             * @member {string} peer
             * @memberof examples.vivaldi.CoordinateUpdated
             * @instance
             */
            CoordinateUpdated.prototype.peer = "";

            /**
             * CoordinateUpdated rttMs.
             * @member {number} rttMs
             * @memberof examples.vivaldi.CoordinateUpdated
             * @instance
             */
            CoordinateUpdated.prototype.rttMs = 0;

            /**
             * Creates a new CoordinateUpdated instance using the specified properties.
             * @function create
             * @memberof examples.vivaldi.CoordinateUpdated
             * @static
             * @param {examples.vivaldi.CoordinateUpdated.$Properties=} [properties] Properties to set
             * @returns {examples.vivaldi.CoordinateUpdated} CoordinateUpdated instance
             * @type {{
             *   (properties: examples.vivaldi.CoordinateUpdated.$Shape): examples.vivaldi.CoordinateUpdated & examples.vivaldi.CoordinateUpdated.$Shape;
             *   (properties?: examples.vivaldi.CoordinateUpdated.$Properties): examples.vivaldi.CoordinateUpdated;
             * }}
             */
            CoordinateUpdated.create = function(properties) {
                return new CoordinateUpdated(properties);
            };

            /**
             * Encodes the specified CoordinateUpdated message. Does not implicitly {@link examples.vivaldi.CoordinateUpdated.verify|verify} messages.
             * @function encode
             * @memberof examples.vivaldi.CoordinateUpdated
             * @static
             * @param {examples.vivaldi.CoordinateUpdated.$Properties} m CoordinateUpdated message or plain object to encode
             * @param {$protobuf.Writer} [w] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            CoordinateUpdated.encode = function (m, w, q) {
                if (!w)
                    w = $Writer.create();
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (m.node != null && $Object.hasOwnProperty.call(m, "node") && m.node !== "")
                    w.uint32(/* id 1, wireType 2 =*/10).string(m.node);
                if (m.coordinate != null && $Object.hasOwnProperty.call(m, "coordinate"))
                    $root.examples.vivaldi.Coordinate.encode(m.coordinate, w.uint32(/* id 2, wireType 2 =*/18).fork(), q + 1).ldelim();
                if (m.peer != null && $Object.hasOwnProperty.call(m, "peer") && m.peer !== "")
                    w.uint32(/* id 3, wireType 2 =*/26).string(m.peer);
                if (m.rttMs != null && $Object.hasOwnProperty.call(m, "rttMs") && !$Object.is(m.rttMs, 0))
                    w.uint32(/* id 4, wireType 1 =*/33).double(m.rttMs);
                if (m.$unknowns != null && $Object.hasOwnProperty.call(m, "$unknowns"))
                    for (var i = 0; i < m.$unknowns.length; ++i)
                        w.raw(m.$unknowns[i]);
                return w;
            };

            /**
             * Decodes a CoordinateUpdated message from the specified reader or buffer.
             * @function decode
             * @memberof examples.vivaldi.CoordinateUpdated
             * @static
             * @param {$protobuf.Reader|Uint8Array} r Reader or buffer to decode from
             * @param {number} [l] Message length if known beforehand
             * @returns {examples.vivaldi.CoordinateUpdated & examples.vivaldi.CoordinateUpdated.$Shape} CoordinateUpdated
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            CoordinateUpdated.decode = function (r, l, z, q, g) {
                if (!(r instanceof $Reader))
                    r = $Reader.create(r);
                if (q === $undefined)
                    q = 0;
                if (q > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                var c, m, v;
                if (l === $undefined)
                    c = r.len;
                else {
                    c = r.pos + l;
                    if (c > r.len)
                        throw $RangeError("index out of range");
                    l = r.len;
                    r.len = c;
                }
                m = g || new $root.examples.vivaldi.CoordinateUpdated();
                while (r.pos < c) {
                    var s = r.pos;
                    var t = r.tag();
                    if (t === z) {
                        z = $undefined;
                        break;
                    }
                    var u = t & 7;
                    switch (t >>>= 3) {
                    case 1: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.node = v;
                            else
                                delete m.node;
                            continue;
                        }
                    case 2: {
                            if (u !== 2)
                                break;
                            m.coordinate = $root.examples.vivaldi.Coordinate.decode(r, r.size(), $undefined, q + 1, m.coordinate);
                            continue;
                        }
                    case 3: {
                            if (u !== 2)
                                break;
                            if ((v = r.stringVerify()).length)
                                m.peer = v;
                            else
                                delete m.peer;
                            continue;
                        }
                    case 4: {
                            if (u !== 1)
                                break;
                            if (!$Object.is(v = r.double(), 0))
                                m.rttMs = v;
                            else
                                delete m.rttMs;
                            continue;
                        }
                    }
                    r.skipType(u, q, t);
                    if (!r.discardUnknown) {
                        $util.makeProp(m, "$unknowns", false);
                        (m.$unknowns || (m.$unknowns = [])).push(r.raw(s, r.pos));
                    }
                }
                if (l !== $undefined) {
                    if (r.pos !== c)
                        throw $RangeError("index out of range");
                    r.len = l;
                }
                if (z !== $undefined)
                    throw $Error("missing end group");
                return m;
            };

            /**
             * Creates a CoordinateUpdated message from a plain object. Also converts values to their respective internal types.
             * @function fromObject
             * @memberof examples.vivaldi.CoordinateUpdated
             * @static
             * @param {Object.<string,*>} d Plain object
             * @returns {examples.vivaldi.CoordinateUpdated} CoordinateUpdated
             */
            CoordinateUpdated.fromObject = function (d, q) {
                if (d instanceof $root.examples.vivaldi.CoordinateUpdated)
                    return d;
                if (!$util.isObject(d))
                    throw $TypeError(".examples.vivaldi.CoordinateUpdated: object expected");
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                var m = new $root.examples.vivaldi.CoordinateUpdated();
                if (d.node != null) {
                    if (typeof d.node !== "string" || d.node.length) {
                        m.node = $String(d.node);
                    }
                }
                if (d.coordinate != null) {
                    if (!$util.isObject(d.coordinate))
                        throw $TypeError(".examples.vivaldi.CoordinateUpdated.coordinate: object expected");
                    m.coordinate = $root.examples.vivaldi.Coordinate.fromObject(d.coordinate, q + 1);
                }
                if (d.peer != null) {
                    if (typeof d.peer !== "string" || d.peer.length) {
                        m.peer = $String(d.peer);
                    }
                }
                if (d.rttMs != null) {
                    if (!$Object.is($Number(d.rttMs), 0)) {
                        m.rttMs = $Number(d.rttMs);
                    }
                }
                return m;
            };

            /**
             * Creates a plain object from a CoordinateUpdated message. Also converts values to other types if specified.
             * @function toObject
             * @memberof examples.vivaldi.CoordinateUpdated
             * @static
             * @param {examples.vivaldi.CoordinateUpdated} m CoordinateUpdated
             * @param {$protobuf.IConversionOptions} [o] Conversion options
             * @returns {Object.<string,*>} Plain object
             */
            CoordinateUpdated.toObject = function (m, o, q) {
                if (!o)
                    o = {};
                if (q === $undefined)
                    q = 0;
                if (q > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                var d = {};
                if (o.defaults) {
                    d.node = "";
                    d.coordinate = null;
                    d.peer = "";
                    d.rttMs = 0;
                }
                if (m.node != null && $Object.hasOwnProperty.call(m, "node")) {
                    d.node = m.node;
                }
                if (m.coordinate != null && $Object.hasOwnProperty.call(m, "coordinate")) {
                    d.coordinate = $root.examples.vivaldi.Coordinate.toObject(m.coordinate, o, q + 1);
                }
                if (m.peer != null && $Object.hasOwnProperty.call(m, "peer")) {
                    d.peer = m.peer;
                }
                if (m.rttMs != null && $Object.hasOwnProperty.call(m, "rttMs")) {
                    d.rttMs = o.json && !$isFinite(m.rttMs) ? $String(m.rttMs) : m.rttMs;
                }
                return d;
            };

            /**
             * Converts this CoordinateUpdated to JSON.
             * @function toJSON
             * @memberof examples.vivaldi.CoordinateUpdated
             * @instance
             * @returns {Object.<string,*>} JSON object
             */
            CoordinateUpdated.prototype.toJSON = function() {
                return CoordinateUpdated.toObject(this, $protobuf.util.toJSONOptions);
            };

            /**
             * Gets the type url for CoordinateUpdated
             * @function getTypeUrl
             * @memberof examples.vivaldi.CoordinateUpdated
             * @static
             * @param {string} [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns {string} The type url
             */
            CoordinateUpdated.getTypeUrl = function(prefix) {
                if (prefix === $undefined)
                    prefix = "type.googleapis.com";
                return prefix + "/examples.vivaldi.CoordinateUpdated";
            };

            return CoordinateUpdated;
        })();

        return vivaldi;
    })();

    return examples;
})();

export {
  $root as default
};
