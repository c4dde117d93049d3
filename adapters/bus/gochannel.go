package bus

import (
	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// openGoChannel makes one in-process pub/sub serve as both ends. Publish
// waits for every subscriber's ack: otherwise GoChannel hands each message
// to its own goroutine and two messages may arrive out of order.
func (b *Bus) openGoChannel(wl watermill.LoggerAdapter) error {
	ch := gochannel.NewGoChannel(gochannel.Config{
		OutputChannelBuffer:            64,
		BlockPublishUntilSubscriberAck: true,
	}, wl)
	b.Publisher, b.Subscriber = ch, ch
	b.onClose(ch.Close)
	return nil
}
