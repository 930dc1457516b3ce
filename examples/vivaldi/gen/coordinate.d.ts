import * as $protobuf from "protobufjs";
import Long = require("long");

export namespace examples {

    namespace vivaldi {

        interface ICoordinate extends examples.vivaldi.Coordinate.$Properties {
        }

        class Coordinate {
            constructor(p?: examples.vivaldi.Coordinate.$Properties);
            $unknowns?: Uint8Array[];
            vec: number[];
            error: number;
            adjustment: number;
            height: number;
            static create(properties: examples.vivaldi.Coordinate.$Shape): examples.vivaldi.Coordinate & examples.vivaldi.Coordinate.$Shape;
            static create(properties?: examples.vivaldi.Coordinate.$Properties): examples.vivaldi.Coordinate;
            static encode(m: examples.vivaldi.Coordinate.$Properties, w?: $protobuf.Writer): $protobuf.Writer;
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): examples.vivaldi.Coordinate & examples.vivaldi.Coordinate.$Shape;
            static fromObject(d: { [k: string]: any }): examples.vivaldi.Coordinate;
            static toObject(m: examples.vivaldi.Coordinate, o?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
            static getTypeUrl(prefix?: string): string;
        }

        namespace Coordinate {
            interface $Properties {
                vec?: (number[]|null);
                error?: (number|null);
                adjustment?: (number|null);
                height?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = examples.vivaldi.Coordinate.$Properties;
        }

        interface ICoordinateUpdated extends examples.vivaldi.CoordinateUpdated.$Properties {
        }

        class CoordinateUpdated {
            constructor(p?: examples.vivaldi.CoordinateUpdated.$Properties);
            $unknowns?: Uint8Array[];
            node: string;
            coordinate?: (examples.vivaldi.Coordinate.$Properties|null);
            peer: string;
            rttMs: number;
            static create(properties: examples.vivaldi.CoordinateUpdated.$Shape): examples.vivaldi.CoordinateUpdated & examples.vivaldi.CoordinateUpdated.$Shape;
            static create(properties?: examples.vivaldi.CoordinateUpdated.$Properties): examples.vivaldi.CoordinateUpdated;
            static encode(m: examples.vivaldi.CoordinateUpdated.$Properties, w?: $protobuf.Writer): $protobuf.Writer;
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): examples.vivaldi.CoordinateUpdated & examples.vivaldi.CoordinateUpdated.$Shape;
            static fromObject(d: { [k: string]: any }): examples.vivaldi.CoordinateUpdated;
            static toObject(m: examples.vivaldi.CoordinateUpdated, o?: $protobuf.IConversionOptions): { [k: string]: any };
            toJSON(): { [k: string]: any };
            static getTypeUrl(prefix?: string): string;
        }

        namespace CoordinateUpdated {
            interface $Properties {
                node?: (string|null);
                coordinate?: (examples.vivaldi.Coordinate.$Properties|null);
                peer?: (string|null);
                rttMs?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = examples.vivaldi.CoordinateUpdated.$Properties;
        }
    }
}
