/// The scaler's row layout for the criterion kernel.
///
/// Rows are stored frame by frame. Within a frame come first the rows alone
/// on their pixel, grouped by streak (streaks in increasing order), then the
/// pixels of two rows, ordered by their two streaks (the lower streak's row
/// first), then the pixels of more rows in (y, x) order, each pixel's rows
/// together. A run of rows of one streak then takes that streak's a and b
/// once, and its sums collect in registers; the two-row pixels go two to a
/// vector, and the pixels of one crossing of two streaks add up in
/// registers too; only the rest need a general loop.
struct CriterionLayout {
    /// New row position → position in the pixel-sorted order.
    var order: [Int]
    /// Pixel groups in the new order: rows groups[p]..<groups[p+1] share a pixel.
    var groups: [Int32]
    /// (start, end, streak) triples: the runs of rows of one streak that are alone on their pixel.
    var runs: [Int32]
    /// (start, end) pairs: the pixels of more than one row.
    var sharedPixels: [Int32]

    /// The layout of rows sorted by (frame, y, x), whose pixel groups are
    /// `groups`, with dense streak `rowStreak` and each streak's frame position.
    init(pixelGroups groups: [Int32], rowStreak: [Int32], streakFrame: [Int], frameCount: Int) {
        let n = rowStreak.count, streakCount = streakFrame.count
        var alone = [Bool](repeating: false, count: n), pair = alone, groupEnd = alone
        for p in 0..<(groups.count - 1) {
            let lo = Int(groups[p]), hi = Int(groups[p + 1])
            if hi - lo == 1 { alone[lo] = true }
            if hi - lo == 2 { (pair[lo], pair[lo + 1]) = (true, true) }
            groupEnd[hi - 1] = true
        }
        var aloneRows = [Int](repeating: 0, count: streakCount)
        var pairRows = [Int](repeating: 0, count: frameCount), sharedRows = pairRows
        for r in 0..<n {
            let s = Int(rowStreak[r])
            if alone[r] { aloneRows[s] += 1 } else if pair[r] { pairRows[streakFrame[s]] += 1 } else { sharedRows[streakFrame[s]] += 1 }
        }
        // Streaks by frame (counting sort, streaks increasing within a frame).
        var frameStreakStart = [Int](repeating: 0, count: frameCount + 1)
        for s in 0..<streakCount { frameStreakStart[streakFrame[s] + 1] += 1 }
        for f in 0..<frameCount { frameStreakStart[f + 1] += frameStreakStart[f] }
        var byFrame = [Int](repeating: 0, count: streakCount), fill = frameStreakStart
        for s in 0..<streakCount { byFrame[fill[streakFrame[s]]] = s; fill[streakFrame[s]] += 1 }
        // Where each streak's lone rows and each frame's two-row and larger pixels begin.
        var next = [Int](repeating: 0, count: streakCount)
        var nextPair = [Int](repeating: 0, count: frameCount), nextShared = nextPair
        var runs: [Int32] = [], cursor = 0
        for f in 0..<frameCount {
            for s in byFrame[frameStreakStart[f]..<frameStreakStart[f + 1]] {
                next[s] = cursor
                if aloneRows[s] > 0 {
                    runs.append(Int32(cursor))
                    runs.append(Int32(cursor + aloneRows[s]))
                    runs.append(Int32(s))
                }
                cursor += aloneRows[s]
            }
            nextPair[f] = cursor
            cursor += pairRows[f]
            nextShared[f] = cursor
            cursor += sharedRows[f]
        }
        var order = [Int](repeating: 0, count: n), endsPixel = [Bool](repeating: false, count: n)
        // Two-row pixels by their pair of streaks (lower first, in the pixel
        // too), so that a crossing's pixels follow one another.
        var pairKeys: [(key: UInt64, row: Int)] = []
        for p in 0..<(groups.count - 1) where groups[p + 1] - groups[p] == 2 {
            let r = Int(groups[p])
            let (s0, s1) = (UInt64(rowStreak[r]), UInt64(rowStreak[r + 1]))
            pairKeys.append((Swift.min(s0, s1) << 32 | Swift.max(s0, s1), r))
        }
        pairKeys.sort { $0.key != $1.key ? $0.key < $1.key : $0.row < $1.row }
        for (_, r) in pairKeys {
            let (lower, upper) = rowStreak[r] <= rowStreak[r + 1] ? (r, r + 1) : (r + 1, r)
            let f = streakFrame[Int(rowStreak[r])]
            order[nextPair[f]] = lower
            order[nextPair[f] + 1] = upper
            endsPixel[nextPair[f] + 1] = true
            nextPair[f] += 2
        }
        for r in 0..<n {
            let s = Int(rowStreak[r])
            if alone[r] {
                order[next[s]] = r
                endsPixel[next[s]] = true
                next[s] += 1
            } else if !pair[r] {  // larger pixels keep their (y, x) order
                let f = streakFrame[s]
                order[nextShared[f]] = r
                endsPixel[nextShared[f]] = groupEnd[r]
                nextShared[f] += 1
            }
        }
        var newGroups: [Int32] = [0], shared: [Int32] = []
        newGroups.reserveCapacity(groups.count)
        for position in 0..<n where endsPixel[position] {
            let start = newGroups.last!
            newGroups.append(Int32(position + 1))
            if position + 1 - Int(start) > 1 {
                shared.append(start)
                shared.append(Int32(position + 1))
            }
        }
        self.order = order
        self.groups = newGroups
        self.runs = runs
        self.sharedPixels = shared
    }

    /// For each block of rows (block b: rows rowStart[b]..<rowStart[b+1]),
    /// where its entries begin in `entries` (`width` numbers each, the first
    /// a start row, sorted by it).
    static func blockStarts(of entries: [Int32], width: Int, rowStart: [Int]) -> [Int] {
        var starts = [0], k = 0
        for b in 1..<rowStart.count {
            while k < entries.count / width && Int(entries[width * k]) < rowStart[b] { k += 1 }
            starts.append(k)
        }
        return starts
    }
}
